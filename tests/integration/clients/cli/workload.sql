-- Shared CLI workload; @T@ is replaced by a per-test table prefix, @DATA@ by a data file path.
DROP TABLE IF EXISTS @T@_items;
DROP PROCEDURE IF EXISTS @T@_report;
CREATE TABLE @T@_items (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(40) NOT NULL,
  model VARCHAR(20),
  price DECIMAL(10,2),
  note TEXT,
  delete_status TINYINT NOT NULL DEFAULT 0,
  created DATETIME(6) DEFAULT '2024-01-02 03:04:05.123456'
) ENGINE=InnoDB;
INSERT INTO @T@_items (name, model, price, note) VALUES
  ('apple', 'A1', 1.50, NULL), ('pear', 'P1', 2.25, 'ripe'), ('plum', NULL, 0.99, 'Ünïcødé ✓'),
  ('fig', 'F1', 10.00, 'it''s "quoted"\ttab');
SELECT ROW_COUNT(), LAST_INSERT_ID();
SELECT * FROM @T@_items ORDER BY id;
UPDATE @T@_items SET price = price * 2 WHERE price < 2;
SELECT ROW_COUNT();
-- warnings
INSERT INTO @T@_items (name, model, price) VALUES ('a-name-that-is-far-too-long-for-forty-characters', 'M', 1);
SHOW WARNINGS;
-- errors (the script runs with --force): unknown table, syntax, duplicate key
SELECT * FROM no_such_table;
SELEC 1;
INSERT INTO @T@_items (id, name) VALUES (1, 'dup');
-- transactions
START TRANSACTION;
INSERT INTO @T@_items (name) VALUES ('rolled back');
ROLLBACK;
BEGIN;
INSERT INTO @T@_items (name) VALUES ('committed');
COMMIT;
SELECT COUNT(*), SUM(price) FROM @T@_items;
-- session state
SET @v := 42, SESSION sql_mode = 'STRICT_ALL_TABLES';
SELECT @v, @@session.sql_mode, DATABASE(), CURRENT_USER();
-- LOAD DATA LOCAL INFILE
LOAD DATA LOCAL INFILE '@DATA@' INTO TABLE @T@_items FIELDS TERMINATED BY ',' (name, model, price);
SELECT COUNT(*), SUM(price), MIN(name), MAX(name) FROM @T@_items;
-- a stored procedure returning several result sets
DELIMITER //
CREATE PROCEDURE @T@_report(IN lim INT)
BEGIN
  SELECT COUNT(*) AS n FROM @T@_items;
  SELECT id, name FROM @T@_items ORDER BY id LIMIT lim;
  SELECT 'done' AS status, lim;
END//
-- a real multi-statement (one COM_QUERY, several results)
SELECT 1 AS a; SELECT 'two' AS b; SELECT NULL AS c//
DELIMITER ;
CALL @T@_report(3);
-- types
SELECT CAST(1.5 AS DECIMAL(5,2)) d, 1e300 f, -9223372036854775808 big, 18446744073709551615 ubig,
       HEX(X'00FF7F') hex, b'101' + 0 bits, DATE('2024-02-29') dt, TIME('838:59:59') tm, JSON_OBJECT('k', 1) js;
-- a larger result (several network packets)
SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 300) AS pad FROM seq_1_to_3000;
SELECT COUNT(*), SUM(CRC32(REPEAT('x', seq))) FROM seq_1_to_20000;
DROP PROCEDURE @T@_report;
DROP TABLE @T@_items;
