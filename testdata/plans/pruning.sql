SELECT count(*) FROM lineitem WHERE l_orderkey > 50000
