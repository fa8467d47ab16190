SELECT l_orderkey, l_extendedprice * (1 - l_discount) AS rev FROM tpch.lineitem WHERE l_quantity < 5 ORDER BY rev DESC, 1 LIMIT 10
