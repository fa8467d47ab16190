SELECT n_nationkey, r_name FROM nation FULL OUTER JOIN region ON n_regionkey = r_regionkey WHERE r_name LIKE 'A%' ORDER BY r_name DESC NULLS LAST
