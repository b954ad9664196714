#include "tail/file_identity.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace exim_ban;

TEST_CASE("a head hash is FNV-1a 64 over the bytes given", "[tail]") {
    // The published FNV-1a 64 test vectors.
    CHECK(hash_head("").value == 0xcbf29ce484222325ULL);
    CHECK(hash_head("a").value == 0xaf63dc4c8601ec8cULL);
    CHECK(hash_head("foobar").value == 0x85944171f73967e8ULL);
    CHECK(hash_head("foobar").bytes == 6);
}

TEST_CASE("a head hash is written as bytes then a colon then 16 hex digits", "[tail]") {
    CHECK(to_string(hash_head("foobar")) == "6:85944171f73967e8");
    CHECK(to_string(hash_head("")) == "0:cbf29ce484222325");
    const HeadHash head = hash_head(std::string(head_hash_bytes, 'x'));
    CHECK(parse_head_hash(to_string(head)) == head);
}

TEST_CASE("a head hash that is not in that form does not parse", "[tail]") {
    CHECK_FALSE(parse_head_hash(""));
    CHECK_FALSE(parse_head_hash(":85944171f73967e8"));
    CHECK_FALSE(parse_head_hash("6:85944171f73967e"));
    CHECK_FALSE(parse_head_hash("6:85944171f73967e8a"));
    CHECK_FALSE(parse_head_hash("6:85944171f73967g8"));
    CHECK_FALSE(parse_head_hash("-6:85944171f73967e8"));
    CHECK_FALSE(parse_head_hash("6x:85944171f73967e8"));
    CHECK_FALSE(parse_head_hash("257:85944171f73967e8"));
    CHECK(parse_head_hash("256:85944171f73967e8"));
}

TEST_CASE("file ids are equal when device and inode are", "[tail]") {
    CHECK(FileId{1, 2} == FileId{1, 2});
    CHECK_FALSE(FileId{1, 2} == FileId{1, 3});
    CHECK_FALSE(FileId{1, 2} == FileId{3, 2});
}
