import java.math.BigDecimal;
import java.sql.*;
import java.util.*;

/**
 * Drives Quarry's PostgreSQL front door with PgJDBC. Prints one line per
 * check: "PASS <section> <name>" or "FAIL <section> <name>: <why>". Section
 * "core" needs only the wire protocol; "metadata" needs pg_catalog.
 */
public class PgJdbcCheck {
    interface Check { void run() throws Exception; }

    static Connection conn;

    static void check(String section, String name, Check c) {
        try {
            c.run();
            System.out.println("PASS " + section + " " + name);
        } catch (Throwable e) {
            String msg = String.valueOf(e).replace('\n', ' ');
            System.out.println("FAIL " + section + " " + name + ": " + msg);
            try {
                if (!conn.getAutoCommit()) conn.rollback();
            } catch (SQLException ignored) {
            }
        }
    }

    static void expect(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        conn = DriverManager.getConnection(args[0]);

        check("core", "statement", () -> {
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT n_nationkey, n_name FROM nation ORDER BY n_nationkey")) {
                int n = 0;
                String first = null;
                while (rs.next()) {
                    if (n == 0) first = rs.getString(2);
                    n++;
                }
                expect(n == 25, "rows " + n);
                expect("ALGERIA".equals(first), "first " + first);
                ResultSetMetaData md = rs.getMetaData();
                expect(md.getColumnCount() == 2, "columns " + md.getColumnCount());
                expect(md.getColumnLabel(2).equals("n_name"), "label " + md.getColumnLabel(2));
                expect(md.getColumnType(2) == Types.VARCHAR, "type " + md.getColumnType(2));
                expect(md.getColumnTypeName(2).equals("varchar"), "type name " + md.getColumnTypeName(2));
            }
        });

        check("core", "prepared statement x10", () -> {
            String sql = "SELECT count(*), sum(l_quantity), max(l_shipdate) FROM lineitem WHERE l_orderkey < ? AND l_returnflag = ?";
            try (PreparedStatement ps = conn.prepareStatement(sql)) {
                for (int i = 1; i <= 10; i++) {
                    ps.setLong(1, i * 1000L);
                    ps.setString(2, "R");
                    long count;
                    BigDecimal sum;
                    java.sql.Date max;
                    try (ResultSet rs = ps.executeQuery()) {
                        expect(rs.next(), "no row");
                        count = rs.getLong(1);
                        sum = rs.getBigDecimal(2);
                        max = rs.getDate(3);
                    }
                    try (Statement st = conn.createStatement();
                         ResultSet rs = st.executeQuery("SELECT count(*), sum(l_quantity), max(l_shipdate) FROM lineitem WHERE l_orderkey < "
                                 + (i * 1000L) + " AND l_returnflag = 'R'")) {
                        rs.next();
                        expect(rs.getLong(1) == count, "count " + count + " vs " + rs.getLong(1) + " at " + i);
                        expect(rs.getBigDecimal(2).compareTo(sum) == 0, "sum " + sum + " vs " + rs.getBigDecimal(2) + " at " + i);
                        expect(rs.getDate(3).equals(max), "max " + max + " vs " + rs.getDate(3) + " at " + i);
                    }
                }
            }
        });

        check("core", "typed values x10", () -> {
            String sql = "SELECT CAST(? AS INTEGER) AS i, CAST('2024-01-02 03:04:05.25' AS TIMESTAMP) AS ts, "
                    + "CAST(12.50 AS DECIMAL(10,2)) AS d, CAST(0.5 AS DOUBLE) AS f, ? AS s, 1 = 1 AS b";
            try (PreparedStatement ps = conn.prepareStatement(sql)) {
                for (int i = 0; i < 10; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "x" + i);
                    try (ResultSet rs = ps.executeQuery()) {
                        expect(rs.next(), "no row");
                        expect(rs.getInt(1) == i, "int " + rs.getInt(1));
                        expect(rs.getTimestamp(2).toString().equals("2024-01-02 03:04:05.25"), "ts " + rs.getTimestamp(2));
                        expect(rs.getBigDecimal(3).toString().equals("12.50"), "decimal " + rs.getBigDecimal(3));
                        expect(rs.getDouble(4) == 0.5, "double " + rs.getDouble(4));
                        expect(rs.getString(5).equals("x" + i), "string " + rs.getString(5));
                        expect(rs.getBoolean(6), "bool");
                    }
                }
            }
        });

        check("core", "fetch size", () -> {
            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                st.setFetchSize(100);
                try (ResultSet rs = st.executeQuery("SELECT l_orderkey, l_quantity, l_shipdate FROM lineitem")) {
                    long n = 0;
                    while (rs.next()) {
                        n++;
                        if (n == 150) {
                            // Another statement while the cursor is open.
                            try (Statement other = conn.createStatement();
                                 ResultSet r2 = other.executeQuery("SELECT count(*) FROM region")) {
                                r2.next();
                                expect(r2.getLong(1) == 5, "region count");
                            }
                        }
                    }
                    expect(n == 60175, "rows " + n);
                }
            }
            conn.commit();
            conn.setAutoCommit(true);
        });

        check("core", "update count", () -> {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE mem.jdbc_t (a INTEGER, b VARCHAR)");
            }
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO mem.jdbc_t VALUES (?, ?)")) {
                ps.setInt(1, 1);
                ps.setString(2, "one");
                int n = ps.executeUpdate();
                expect(n == 1, "update count " + n);
            }
        });

        check("core", "error", () -> {
            try (Statement st = conn.createStatement()) {
                st.executeQuery("SELECT * FROM no_such_table");
                expect(false, "no error");
            } catch (SQLException e) {
                expect("42P01".equals(e.getSQLState()), "state " + e.getSQLState());
            }
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                expect(rs.next() && rs.getInt(1) == 1, "after error");
            }
        });

        DatabaseMetaData md = conn.getMetaData();
        check("metadata", "getTables", () -> {
            Set<String> names = new HashSet<>();
            try (ResultSet rs = md.getTables(null, "tpch", "%", new String[] {"TABLE"})) {
                while (rs.next()) names.add(rs.getString("TABLE_NAME"));
            }
            expect(names.contains("lineitem"), "tables " + names);
        });
        check("metadata", "getColumns", () -> {
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, "tpch", "lineitem", "%")) {
                while (rs.next()) cols.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
            }
            expect(cols.size() == 16 && cols.get(0).startsWith("l_orderkey:"), "columns " + cols);
        });
        check("metadata", "getSchemas", () -> {
            Set<String> names = new HashSet<>();
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) names.add(rs.getString("TABLE_SCHEM"));
            }
            expect(names.contains("tpch"), "schemas " + names);
        });
        check("metadata", "getPrimaryKeys", () -> {
            try (ResultSet rs = md.getPrimaryKeys(null, "tpch", "lineitem")) {
                while (rs.next()) { }
            }
        });
        check("metadata", "ResultSetMetaData", () -> {
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT n_name FROM nation LIMIT 1")) {
                ResultSetMetaData rmd = rs.getMetaData();
                rmd.isNullable(1);
                rmd.getTableName(1);
                rmd.isAutoIncrement(1);
            }
        });
        conn.close();
        System.out.println("DONE");
    }
}
