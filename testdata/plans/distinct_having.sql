SELECT DISTINCT l_returnflag, l_linestatus FROM lineitem
