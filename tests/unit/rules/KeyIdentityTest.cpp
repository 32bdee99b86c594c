#include "rules/KeyIdentity.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uniqgate::rules {
namespace {

ColumnInfo text_column(std::string collation) {
    ColumnInfo column;
    column.name = "name";
    column.type = ColumnType::text;
    column.collation = std::move(collation);
    return column;
}

ColumnInfo numeric_column(ColumnType type, int scale = 0) {
    ColumnInfo column;
    column.name = "n";
    column.type = type;
    column.numeric_scale = scale;
    return column;
}

std::string identity(std::string_view literal_sql, const ColumnInfo& column) {
    std::string out;
    std::string reason;
    if (!append_key_identity(out, read_literal_text(literal_sql, {}), column, reason)) return "ERROR: " + reason;
    return out;
}

TEST(CollationTraits, CaseInsensitivePadSpaceCollations) {
    for (const char* name : {"utf8mb4_general_ci", "utf8mb4_unicode_ci", "latin1_swedish_ci", "utf8mb4_unicode_520_ci",
                             "utf8mb4_uca1400_ai_ci"}) {
        const CollationTraits traits = collation_traits(name);
        EXPECT_TRUE(traits.case_insensitive) << name;
        EXPECT_TRUE(traits.accent_insensitive) << name;
        EXPECT_TRUE(traits.pad_space) << name;
    }
}

TEST(CollationTraits, NoPadAndBinaryCollations) {
    EXPECT_FALSE(collation_traits("utf8mb4_0900_ai_ci").pad_space);
    EXPECT_FALSE(collation_traits("utf8mb4_general_nopad_ci").pad_space);
    EXPECT_FALSE(collation_traits("binary").pad_space);
    EXPECT_TRUE(collation_traits("utf8mb4_bin").pad_space);
    EXPECT_FALSE(collation_traits("utf8mb4_bin").case_insensitive);
    EXPECT_FALSE(collation_traits("latin1_general_cs").case_insensitive);
    EXPECT_FALSE(collation_traits("utf8mb4_0900_as_cs").accent_insensitive);
    const CollationTraits as_ci = collation_traits("utf8mb4_0900_as_ci");
    EXPECT_TRUE(as_ci.case_insensitive);
    EXPECT_FALSE(as_ci.accent_insensitive);
}

TEST(CollationTraits, UnknownCollationMergesBroadly) {
    EXPECT_TRUE(collation_traits("").case_insensitive);
    EXPECT_TRUE(collation_traits("weird_thing").accent_insensitive);
}

struct EqualCase {
    std::string_view a;
    std::string_view b;
    std::string collation;
    bool equal;
};

class CollationEquality : public ::testing::TestWithParam<EqualCase> {};

TEST_P(CollationEquality, MatchesTheServersComparison) {
    const EqualCase& c = GetParam();
    const ColumnInfo column = text_column(c.collation);
    EXPECT_EQ(identity(c.a, column) == identity(c.b, column), c.equal) << c.a << " vs " << c.b << " under " << c.collation;
}

INSTANTIATE_TEST_SUITE_P(Cases, CollationEquality, ::testing::Values(
    EqualCase{"'ABC'", "'abc  '", "utf8mb4_general_ci", true},
    EqualCase{"'ABC'", "'abc'", "utf8mb4_bin", false},
    EqualCase{"'abc'", "'abc  '", "utf8mb4_bin", true},
    EqualCase{"'abc'", "'abc '", "utf8mb4_0900_ai_ci", false},
    EqualCase{"'ABC'", "'abc'", "utf8mb4_0900_ai_ci", true},
    EqualCase{"'abc'", "'abc\t'", "utf8mb4_general_ci", false},
    EqualCase{"'Café'", "'CAFE'", "utf8mb4_general_ci", true},
    EqualCase{"'Café'", "'cafe'", "utf8mb4_0900_as_ci", false},
    EqualCase{"'Café'", "'CAFÉ'", "utf8mb4_0900_as_ci", true},
    EqualCase{"'Straße'", "'STRASSE'", "utf8mb4_unicode_ci", true},
    EqualCase{"'Straße'", "'strase'", "utf8mb4_general_ci", true},
    EqualCase{"'ÅSA'", "'asa'", "latin1_swedish_ci", false},
    EqualCase{"'ÅSA'", "'åsa'", "latin1_swedish_ci", true},
    EqualCase{"'Łódź'", "'LODZ'", "utf8mb4_general_ci", true},
    EqualCase{"'ΑΒΓ'", "'αβγ'", "utf8mb4_general_ci", true},
    EqualCase{"'ПРИВЕТ'", "'привет'", "utf8mb4_unicode_ci", true},
    EqualCase{"'😀'", "'😁'", "utf8mb4_general_ci", true},
    EqualCase{"'😀'", "'😁'", "utf8mb4_0900_ai_ci", false},
    EqualCase{"'a'", "'b'", "utf8mb4_general_ci", false},
    EqualCase{"_latin1 X'C9'", "'é'", "latin1_swedish_ci", true},
    EqualCase{"'x' 'Y'", "'XY'", "utf8mb4_general_ci", true}));

TEST(CanonicalNumber, WritesOneFormPerValue) {
    EXPECT_EQ(canonical_number("1", 0), "1");
    EXPECT_EQ(canonical_number("1.0", 0), "1");
    EXPECT_EQ(canonical_number("001", 0), "1");
    EXPECT_EQ(canonical_number("1e0", 0), "1");
    EXPECT_EQ(canonical_number("1.5", 0), "2");
    EXPECT_EQ(canonical_number("-1.5", 0), "-2");
    EXPECT_EQ(canonical_number("1.49", 0), "1");
    EXPECT_EQ(canonical_number("9.99", 1), "10");
    EXPECT_EQ(canonical_number("12.345", 2), "12.35");
    EXPECT_EQ(canonical_number("-0", 0), "0");
    EXPECT_EQ(canonical_number("-0.001", 2), "0");
    EXPECT_EQ(canonical_number("1.5e3", -1), "1500");
    EXPECT_EQ(canonical_number("15e-3", -1), "0.015");
    EXPECT_EQ(canonical_number(".5", -1), "0.5");
    EXPECT_EQ(canonical_number("+42", 0), "42");
    EXPECT_FALSE(canonical_number("abc", 0));
    EXPECT_FALSE(canonical_number("1abc", 0));
    EXPECT_FALSE(canonical_number("", 0));
    EXPECT_FALSE(canonical_number("1e99999", 0));
    EXPECT_FALSE(canonical_number("1e", 0));
}

TEST(KeyIdentity, IntegerColumnCallsOneAndQuotedOneAndOnePointZeroEqual) {
    const ColumnInfo column = numeric_column(ColumnType::integer);
    const std::string one = identity("1", column);
    EXPECT_EQ(identity("'1'", column), one);
    EXPECT_EQ(identity("1.0", column), one);
    EXPECT_EQ(identity("' 1 '", column), one);
    EXPECT_EQ(identity("0x01", column), one);
    EXPECT_EQ(identity("TRUE", column), one);
    EXPECT_NE(identity("2", column), one);
    EXPECT_EQ(identity("'abc'", column), "ERROR: value is not a number for column 'n'");
}

TEST(KeyIdentity, DecimalColumnRoundsToItsScale) {
    const ColumnInfo column = numeric_column(ColumnType::decimal, 2);
    EXPECT_EQ(identity("1.001", column), identity("'1.00'", column));
    EXPECT_NE(identity("1.01", column), identity("1", column));
}

TEST(KeyIdentity, PartsAreLengthPrefixedSoConcatenationCannotCollide) {
    const ColumnInfo column = text_column("utf8mb4_bin");
    std::string ab_c;
    std::string a_bc;
    std::string reason;
    append_key_identity(ab_c, read_literal_text("'ab'", {}), column, reason);
    append_key_identity(ab_c, read_literal_text("'c'", {}), column, reason);
    append_key_identity(a_bc, read_literal_text("'a'", {}), column, reason);
    append_key_identity(a_bc, read_literal_text("'bc'", {}), column, reason);
    EXPECT_NE(ab_c, a_bc);
    EXPECT_EQ(ab_c, "2:ab1:c");
}

TEST(KeyIdentity, BinaryColumnsCompareBytes) {
    ColumnInfo column;
    column.type = ColumnType::binary;
    EXPECT_EQ(identity("X'41'", column), identity("'A'", column));
    EXPECT_NE(identity("'a'", column), identity("'A'", column));
}

}  // namespace
}  // namespace uniqgate::rules
