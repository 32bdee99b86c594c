// prepared_test.py clients for MariaDB Connector/J 2.7 (see README.md).
//   load DIR COUNT   COUNT threads, thread I runs DIR/planI.tsv and writes DIR/outI.tsv. Threads use
//                    useServerPrepStmts=true&useBulkStmts=false (binary protocol; a batch is executed
//                    row by row); every fourth thread uses rewriteBatchedStatements=true instead
//                    (Connector/J then prepares on the client and sends a batch as one multi-row
//                    INSERT: text protocol).
//   bulk DIR 1       useBulkStmts=true: batches on the rule table (COM_STMT_BULK_EXECUTE) and what
//                    the driver reports, then the same connection keeps working.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.sql.*;
import java.util.*;

public class JavaClient {
    static final String TABLE = System.getenv("UG_TABLE");
    static final long DEADLINE = System.currentTimeMillis() + 1000L * Long.parseLong(
            Optional.ofNullable(System.getenv("UG_BUDGET_S")).orElse("60"));

    static Connection connect(String opts) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://" + System.getenv("UG_HOST") + ":" + System.getenv("UG_PORT")
                + "/shop?user=" + System.getenv("UG_USER") + "&password=" + System.getenv("UG_PASSWORD")
                + "&connectTimeout=10000&socketTimeout=30000&" + opts);
    }

    static String message(SQLException e) {
        return e.getMessage().replaceAll("\\(conn=\\d+\\) ?", "").replaceAll("(?s)\\n(Query is|Current charset).*", "")
                .replace('\t', ' ').replace('\n', ' ');
    }

    static String errFields(SQLException e) {
        return "ERR\t" + e.getErrorCode() + "\t" + e.getSQLState() + "\t" + message(e);
    }

    static final class Client {
        final Connection c;
        final PreparedStatement insert, batchInsert, delete;
        final List<String> out = new ArrayList<>();

        Client(String opts) throws SQLException {
            c = connect(opts);
            insert = c.prepareStatement("INSERT INTO " + TABLE + " (name, model, price, note) VALUES (?, ?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS);
            // Without RETURN_GENERATED_KEYS: with it, rewriteBatchedStatements sends a batch as a
            // multi-statement string (INSERT ...;INSERT ...), which uniqgate refuses on a rule
            // table (see the java_bulk scenario); without it, as one multi-row INSERT.
            batchInsert = c.prepareStatement("INSERT INTO " + TABLE + " (name, model, price, note) VALUES (?, ?, ?, ?)");
            delete = c.prepareStatement("UPDATE " + TABLE + " SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0");
        }

        void bind(PreparedStatement ps, String name, String model, int price) throws SQLException {
            ps.setString(1, name);
            ps.setString(2, model);
            ps.setInt(3, price);
            ps.setString(4, "n" + price);
        }

        boolean insertRow(String ctx, String name, String model, int price, List<String> sink) {
            try {
                bind(insert, name, model, price);
                int n = insert.executeUpdate();
                long id = -1;
                try (ResultSet rs = insert.getGeneratedKeys()) { if (rs.next()) id = rs.getLong(1); }
                sink.add("ins\t" + name + "\t" + model + "\t" + ctx + "\tOK\t" + n + "\t" + id);
                return true;
            } catch (SQLException e) {
                sink.add("ins\t" + name + "\t" + model + "\t" + ctx + "\t" + errFields(e));
                return false;
            }
        }

        void batch(String[] op) throws SQLException {
            StringBuilder keys = new StringBuilder("batchkeys");
            for (int k = 1; k + 1 < op.length; k += 2) {
                bind(batchInsert, op[k], op[k + 1], 5);
                batchInsert.addBatch();
                keys.append('\t').append(op[k]).append('\t').append(op[k + 1]);
            }
            out.add(keys.toString());
            int rows = (op.length - 1) / 2;
            int[] counts;
            String err = null;
            try {
                counts = batchInsert.executeBatch();
            } catch (BatchUpdateException e) {
                counts = e.getUpdateCounts();
                err = errFields(e);
            }
            for (int r = 0; r < rows; r++) {
                int n = r < counts.length ? counts[r] : Statement.EXECUTE_FAILED;
                String key = op[1 + 2 * r] + "\t" + op[2 + 2 * r];
                if (n == Statement.EXECUTE_FAILED) out.add("ins\t" + key + "\tbatch\t" + err);
                else out.add("ins\t" + key + "\tbatch\tOK\t" + (n == Statement.SUCCESS_NO_INFO ? 1 : n) + "\t-");
            }
        }

        void run(List<String> plan) throws SQLException {
            for (String line : plan) {
                if (System.currentTimeMillis() > DEADLINE) throw new IllegalStateException("time budget used up");
                String[] op = line.split("\t");
                switch (op[0]) {
                    case "ins":
                        insertRow("auto", op[1], op[2], Integer.parseInt(op[3]), out);
                        break;
                    case "delre":
                        try {
                            delete.setString(1, op[1]);
                            delete.setString(2, op[2]);
                            out.add("del\t" + op[1] + "\t" + op[2] + "\tauto\tOK\t" + delete.executeUpdate());
                        } catch (SQLException e) {
                            out.add("del\t" + op[1] + "\t" + op[2] + "\tauto\t" + errFields(e));
                        }
                        insertRow("auto", op[1], op[2], 7, out);
                        break;
                    case "txn": {
                        List<String> held = new ArrayList<>();
                        boolean failed = false;
                        c.setAutoCommit(false);
                        for (int k = 2; k + 1 < op.length && !failed; k += 2)
                            failed = !insertRow("TXN", op[k], op[k + 1], 3, held);
                        boolean commit = op[1].equals("commit") && !failed;
                        if (commit) c.commit(); else c.rollback();
                        c.setAutoCommit(true);
                        for (String h : held) out.add(h.replace("\tTXN\t", commit ? "\ttxc\t" : "\ttxr\t"));
                        break;
                    }
                    case "batch":
                        batch(op);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown plan line " + line);
                }
            }
        }
    }

    static void load(Path dir, int count) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> crashes = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < count; i++) {
            final int id = i;
            Thread t = new Thread(() -> {
                Client client = null;
                try {
                    String opts = id % 4 == 3 ? "rewriteBatchedStatements=true&useBulkStmts=false"
                                              : "useServerPrepStmts=true&useBulkStmts=false";
                    client = new Client(opts);
                    client.run(Files.readAllLines(dir.resolve("plan" + id + ".tsv"), StandardCharsets.UTF_8));
                } catch (Throwable e) {
                    crashes.add(e);
                    System.err.println("client " + id + ": " + e);
                } finally {
                    if (client != null) {
                        try {
                            Files.write(dir.resolve("out" + id + ".tsv"), client.out, StandardCharsets.UTF_8);
                            client.c.close();
                        } catch (Exception ignored) { }
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) t.join();
        if (!crashes.isEmpty()) System.exit(1);
    }

    static String attempt(SqlCall call) {
        try { return call.run(); } catch (SQLException e) { return e.getClass().getSimpleName() + " " + e.getErrorCode() + " " + e.getSQLState() + " " + message(e); }
    }

    interface SqlCall { String run() throws SQLException; }

    // The session's Com_stmt_execute (the statements of the proxy's own count on the client's session).
    static long sessionExecutes(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SHOW SESSION STATUS LIKE 'Com_stmt_execute'")) { rs.next(); return rs.getLong(2); }
    }

    static void bulk() throws Exception {
        try (Connection c = connect("useServerPrepStmts=true&useBulkStmts=true");
             Statement st = c.createStatement()) {
            PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " (name, model, price) VALUES (?, ?, ?)");
            for (int i = 0; i < 3; i++) { ps.setString(1, "bk" + i); ps.setString(2, "m"); ps.setInt(3, i); ps.addBatch(); }
            long executesBefore = sessionExecutes(st);
            System.out.println("bulk batch: " + attempt(() -> Arrays.toString(ps.executeBatch())));
            System.out.println("executes for the bulk batch: " + (sessionExecutes(st) - executesBefore));
            System.out.println("rows after bulk: " + attempt(() -> {
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + TABLE)) { rs.next(); return rs.getString(1); }
            }));
            for (String name : new String[] {"bk_new", "bk1"}) { ps.setString(1, name); ps.setString(2, "m"); ps.setInt(3, 7); ps.addBatch(); }
            System.out.println("bulk batch with a live key: " + attempt(() -> Arrays.toString(ps.executeBatch())));
            System.out.println("rows after the duplicate bulk: " + attempt(() -> {
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + TABLE)) { rs.next(); return rs.getString(1); }
            }));
            System.out.println("same connection afterwards: " + attempt(() -> {
                ps.clearBatch();
                ps.setString(1, "bk_after"); ps.setString(2, "m"); ps.setInt(3, 9);
                return String.valueOf(ps.executeUpdate());
            }));
            // Connector/J 2.x sends other batches as bulk executions too: a soft delete of two keys,
            // then a rename onto a live key (a duplicate: the whole batch undone).
            PreparedStatement soft = c.prepareStatement(
                    "UPDATE " + TABLE + " SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0");
            for (String name : new String[] {"bk0", "bk2"}) { soft.setString(1, name); soft.setString(2, "m"); soft.addBatch(); }
            long softBefore = sessionExecutes(st);
            System.out.println("bulk soft-delete batch: " + attempt(() -> Arrays.toString(soft.executeBatch())));
            System.out.println("executes for the bulk soft-delete batch: " + (sessionExecutes(st) - softBefore));
            PreparedStatement rename = c.prepareStatement(
                    "UPDATE " + TABLE + " SET name = ? WHERE name = ? AND model = 'm' AND delete_status = 0");
            rename.setString(1, "bk_renamed"); rename.setString(2, "bk_after"); rename.addBatch();
            rename.setString(1, "bk1"); rename.setString(2, "bk_renamed"); rename.addBatch();
            long renameBefore = sessionExecutes(st);
            System.out.println("bulk rename batch onto a live key: " + attempt(() -> Arrays.toString(rename.executeBatch())));
            System.out.println("executes for the bulk rename batch: " + (sessionExecutes(st) - renameBefore));
            System.out.println("live rows after the renames: " + attempt(() -> {
                try (ResultSet rs = st.executeQuery("SELECT GROUP_CONCAT(name ORDER BY name) FROM " + TABLE
                        + " WHERE delete_status = 0")) { rs.next(); return rs.getString(1); }
            }));
            PreparedStatement keys = c.prepareStatement("INSERT INTO " + TABLE + " (name, model, price) VALUES (?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS);
            for (int i = 0; i < 2; i++) { keys.setString(1, "bk_multi" + i); keys.setString(2, "m"); keys.setInt(3, i); keys.addBatch(); }
            System.out.println("bulk batch with generated keys: " + attempt(() -> Arrays.toString(keys.executeBatch())));
            try (Connection rw = connect("rewriteBatchedStatements=true&useBulkStmts=false")) {
                PreparedStatement multi = rw.prepareStatement("INSERT INTO " + TABLE + " (name, model, price) VALUES (?, ?, ?)",
                        Statement.RETURN_GENERATED_KEYS);
                for (int i = 0; i < 2; i++) { multi.setString(1, "bk_multi" + i); multi.setString(2, "m"); multi.setInt(3, i); multi.addBatch(); }
                System.out.println("rewritten batch with generated keys: " + attempt(() -> Arrays.toString(multi.executeBatch())));
            }
            // Named after the rule table: the serialize and dedup runs of this test may run at once.
            final String free_table = TABLE + "_free";
            st.execute("DROP TABLE IF EXISTS " + free_table);
            st.execute("CREATE TABLE " + free_table + " (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))");
            PreparedStatement free = c.prepareStatement("INSERT INTO " + free_table + " (name) VALUES (?)");
            for (int i = 0; i < 3; i++) { free.setString(1, "f" + i); free.addBatch(); }
            System.out.println("bulk batch, non-rule table: " + attempt(() -> Arrays.toString(free.executeBatch())));
            System.out.println("rows in the non-rule table: " + attempt(() -> {
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + free_table)) { rs.next(); return rs.getString(1); }
            }));
            st.execute("DROP TABLE " + free_table);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("load")) load(Paths.get(args[1]), Integer.parseInt(args[2]));
        else bulk();
    }
}
