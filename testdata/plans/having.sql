SELECT l_returnflag, count(DISTINCT l_suppkey) AS n, max(l_shipdate) FROM lineitem GROUP BY l_returnflag HAVING sum(l_quantity) > 100 AND l_returnflag <> 'N' ORDER BY 1
