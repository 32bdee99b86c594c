// MariaDB Connector/J workload, printed deterministically for harness/run.py compare.
// Covers: client-side and server-side prepared statements (useServerPrepStmts), batch inserts
// (rewritten, one by one, and COM_STMT_BULK_EXECUTE via useBulkStmts), streaming with setFetchSize,
// multi-statements and a procedure with several result sets, transactions, a 17 MiB blob through
// the binary protocol, COM_RESET_CONNECTION (MariaDbConnection.reset() and a pool with
// useResetConnection), ed25519 login, TLS.
// (Connector/J 2.x has no cursor fetch (COM_STMT_FETCH) and no public COM_CHANGE_USER; the PHP
// mysqli test covers both.)
import java.security.MessageDigest;
import java.sql.*;
import java.util.*;

public class ConnectorJTest {
    static final String T = "java";
    static final String HOST = System.getenv("UG_HOST");
    static final String PORT = System.getenv("UG_PORT");

    static void show(String label, Object value) {
        System.out.println(label + ": " + (value instanceof Object[] ? Arrays.deepToString((Object[]) value) : value));
    }

    static String url(String user, String pw, String opts) {
        return "jdbc:mariadb://" + HOST + ":" + PORT + "/shop?user=" + user + "&password=" + pw
                + "&connectTimeout=10000&socketTimeout=120000&maxAllowedPacket=67108864" + (opts.isEmpty() ? "" : "&" + opts);
    }

    static Connection connect(String opts) throws SQLException {
        return DriverManager.getConnection(url(System.getenv("UG_USER"), System.getenv("UG_PASSWORD"), opts));
    }

    static String err(Callable c) {
        try { c.call(); return "no error"; }
        catch (SQLException e) { return e.getClass().getSimpleName() + " " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage().replaceAll("\\(conn=\\d+\\) ?", "").replaceAll("port=\\d+", "port=<port>").replaceAll("(?s)\\n(Query is|Current charset).*", ""); }
    }

    interface Callable { void call() throws SQLException; }

    static List<List<Object>> rows(ResultSet rs) throws SQLException {
        List<List<Object>> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            List<Object> row = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                Object o = rs.getObject(i);
                row.add(o instanceof byte[] ? "bytes[" + ((byte[]) o).length + "]" : o);
            }
            out.add(row);
        }
        return out;
    }

    static List<Object> allResults(Statement s, boolean hasRs) throws SQLException {
        List<Object> out = new ArrayList<>();
        while (true) {
            if (hasRs) out.add(rows(s.getResultSet()));
            else if (s.getUpdateCount() == -1) break;
            else out.add("update " + s.getUpdateCount());
            hasRs = s.getMoreResults();
        }
        return out;
    }

    static void workload(String opts) throws Exception {
        System.out.println("==== " + opts);
        try (Connection c = connect(opts)) {
            Statement st = c.createStatement();
            st.execute("DROP TABLE IF EXISTS " + T + "_items");
            st.execute("CREATE TABLE " + T + "_items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,"
                    + " model VARCHAR(20), qty INT, price DECIMAL(10,2), ts DATETIME(3), delete_status TINYINT NOT NULL DEFAULT 0)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + T + "_items (name, model, qty, price, ts) VALUES (?, ?, ?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, "a"); ps.setString(2, "A"); ps.setInt(3, 1); ps.setBigDecimal(4, new java.math.BigDecimal("1.50"));
                ps.setTimestamp(5, Timestamp.valueOf("2024-02-29 12:34:56.789"));
                show("insert", ps.executeUpdate());
                ResultSet keys = ps.getGeneratedKeys();
                show("generated keys", rows(keys));
                ps.setString(1, "ü ✓"); ps.setNull(2, Types.VARCHAR); ps.setNull(3, Types.INTEGER); ps.setNull(4, Types.DECIMAL); ps.setNull(5, Types.TIMESTAMP);
                show("insert null", ps.executeUpdate());
            }
            // batches: rewritten (client) or COM_STMT_BULK_EXECUTE / one by one (server prepares)
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + T + "_items (name, model, qty) VALUES (?, ?, ?)")) {
                for (int i = 0; i < 500; i++) { ps.setString(1, "b" + i); ps.setString(2, "M" + (i % 7)); ps.setInt(3, i); ps.addBatch(); }
                int[] counts = ps.executeBatch();
                show("batch", counts.length + " statements, sum " + Arrays.stream(counts).sum());
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + T + "_items SET qty = qty + ? WHERE model = ?")) {
                for (int i = 0; i < 7; i++) { ps.setInt(1, 1); ps.setString(2, "M" + i); ps.addBatch(); }
                show("batch update", Arrays.toString(ps.executeBatch()));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, name, model, qty, price, ts FROM " + T + "_items WHERE id <= ? ORDER BY id")) {
                ps.setInt(1, 4);
                ResultSet rs = ps.executeQuery();
                ResultSetMetaData md = rs.getMetaData();
                List<String> meta = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) meta.add(md.getColumnName(i) + ":" + md.getColumnTypeName(i));
                show("meta", meta);
                show("rows", rows(rs));
            }
            show("aggregate", rows(st.executeQuery("SELECT COUNT(*), SUM(qty) FROM " + T + "_items")));
            show("duplicate", err(() -> st.executeUpdate("INSERT INTO " + T + "_items (id, name) VALUES (1, 'x')")));
            show("syntax", err(() -> st.executeQuery("SELEC 1")));
            show("bad prepare", err(() -> c.prepareStatement("SELECT * FROM no_such_table WHERE id = ?").executeQuery()));
            show("duplicate in batch", err(() -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + T + "_items (id, name) VALUES (?, ?)")) {
                    ps.setInt(1, 100000); ps.setString(2, "x"); ps.addBatch();
                    ps.setInt(1, 1); ps.setString(2, "dup"); ps.addBatch();
                    ps.executeBatch();
                }
            }));

            // streaming result (setFetchSize): rows are read as the application consumes them
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, REPEAT('s', seq % 40) FROM seq_1_to_100000 WHERE seq > ?")) {
                ps.setFetchSize(100);
                ps.setInt(1, 0);
                ResultSet rs = ps.executeQuery();
                long n = 0, sum = 0, len = 0;
                while (rs.next()) { n++; sum += rs.getLong(1); len += rs.getString(2).length(); }
                show("streamed", n + " rows, sum " + sum + ", chars " + len);
            }
            // a streaming result abandoned half way, then the connection is used again
            try (Statement s2 = c.createStatement()) {
                s2.setFetchSize(10);
                ResultSet rs = s2.executeQuery("SELECT seq FROM seq_1_to_50000");
                for (int i = 0; i < 25 && rs.next(); i++) { }
                rs.close();
            }
            show("after abandoned stream", rows(st.executeQuery("SELECT 'still usable'")));

            // multi-statements and a procedure with several result sets
            st.execute("DROP PROCEDURE IF EXISTS " + T + "_report");
            st.execute("CREATE PROCEDURE " + T + "_report(IN lim INT) BEGIN SELECT COUNT(*) AS n FROM " + T + "_items;"
                    + " SELECT id, name FROM " + T + "_items ORDER BY id LIMIT lim; SELECT 'done' AS status; END");
            try (CallableStatement cs = c.prepareCall("{call " + T + "_report(?)}")) {
                cs.setInt(1, 2);
                show("call", allResults(cs, cs.execute()));
            }
            boolean has = st.execute("SELECT 1 AS a; SELECT 'two' AS b; UPDATE " + T + "_items SET qty = 0 WHERE id = 1; SELECT @@autocommit");
            show("multi", allResults(st, has));
            st.execute("DROP PROCEDURE " + T + "_report");

            // transactions
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO " + T + "_items (name) VALUES ('rb')");
            c.rollback();
            st.executeUpdate("INSERT INTO " + T + "_items (name) VALUES ('c')");
            c.commit();
            c.setAutoCommit(true);
            show("after transactions", rows(st.executeQuery("SELECT COUNT(*), SUM(name = 'rb'), SUM(name = 'c') FROM " + T + "_items")));

            // 17 MiB blob through the prepared-statement path
            byte[] big = new byte[17 * 1024 * 1024 + 3];
            new Random(99).nextBytes(big);
            String sent = hex(MessageDigest.getInstance("SHA-256").digest(big));
            st.execute("DROP TABLE IF EXISTS " + T + "_blobs");
            st.execute("CREATE TABLE " + T + "_blobs (id INT PRIMARY KEY, b LONGBLOB)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + T + "_blobs VALUES (?, ?)")) {
                ps.setInt(1, 1); ps.setBytes(2, big); ps.executeUpdate();
                ps.setInt(1, 2); ps.setBinaryStream(2, new java.io.ByteArrayInputStream(big), big.length); ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT b, SHA2(b, 256) FROM " + T + "_blobs WHERE id = ?")) {
                for (int id = 1; id <= 2; id++) {
                    ps.setInt(1, id);
                    ResultSet rs = ps.executeQuery();
                    rs.next();
                    byte[] got = rs.getBytes(1);
                    boolean ok = Arrays.equals(got, big) && sent.equals(rs.getString(2));
                    show("blob " + id, got.length + " " + sent.substring(0, 16) + (ok ? " roundtrip ok" : " MISMATCH"));
                    if (!ok) throw new AssertionError("blob mismatch");
                }
            }
            st.execute("DROP TABLE " + T + "_blobs");
            st.execute("DROP TABLE " + T + "_items");
        }
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x));
        return sb.toString();
    }

    // COM_RESET_CONNECTION, directly and through the driver's pool
    static void reset() throws Exception {
        System.out.println("==== reset");
        // reset() sends COM_RESET_CONNECTION only with useResetConnection=true
        try (Connection c = connect("useResetConnection=true")) {
            Statement st = c.createStatement();
            st.execute("SET @v := 5");
            st.execute("CREATE TEMPORARY TABLE " + T + "_tmp (x INT)");
            st.execute("USE mysql");
            c.unwrap(org.mariadb.jdbc.MariaDbConnection.class).reset();
            show("after reset", rows(st.executeQuery("SELECT @v, DATABASE(), CURRENT_USER()")));
            show("temp table after reset", err(() -> st.executeQuery("SELECT * FROM shop." + T + "_tmp")));
        }
        try (org.mariadb.jdbc.MariaDbPoolDataSource pool = new org.mariadb.jdbc.MariaDbPoolDataSource(
                url(System.getenv("UG_USER"), System.getenv("UG_PASSWORD"), "maxPoolSize=1&minPoolSize=1&useResetConnection=true"))) {
            long first = -1;
            for (int i = 0; i < 3; i++) {
                try (Connection c = pool.getConnection()) {
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT @v, CONNECTION_ID()");
                    rs.next();
                    if (first < 0) first = rs.getLong(2);
                    show("pooled #" + i, "@v=" + rs.getObject(1) + " same physical connection=" + (rs.getLong(2) == first));
                    st.execute("SET @v := " + (i + 10));
                }
            }
        }
    }

    static void ed25519() throws Exception {
        System.out.println("==== ed25519");
        for (String opts : new String[] {"", "useSsl=true&trustServerCertificate=true"}) {
            try (Connection c = DriverManager.getConnection(url("app_ed", "ed_pw", opts))) {
                show("ed25519 " + opts, rows(c.createStatement().executeQuery("SELECT CURRENT_USER()")));
            }
        }
        show("ed25519 wrong password", err(() -> DriverManager.getConnection(url("app_ed", "bad", "")).close()));
    }

    public static void main(String[] args) throws Exception {
        workload("useServerPrepStmts=false&rewriteBatchedStatements=true&allowMultiQueries=true");
        workload("useServerPrepStmts=true&useBulkStmts=true&allowMultiQueries=true");
        workload("useServerPrepStmts=true&useBulkStmts=false&allowMultiQueries=true&useSsl=true&trustServerCertificate=true");
        reset();
        ed25519();
    }
}
