SELECT c_count, count(*) AS custdist FROM (SELECT o_custkey, count(o_orderkey) FROM orders GROUP BY o_custkey) AS c_orders (c_custkey, c_count) GROUP BY c_count ORDER BY custdist DESC, c_count DESC
