SELECT n_name FROM nation WHERE n_regionkey = 1 UNION SELECT r_name FROM region INTERSECT SELECT r_name FROM region WHERE r_regionkey < 2 ORDER BY 1 NULLS FIRST LIMIT 5
