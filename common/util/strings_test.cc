#include "common/util/strings.h"

#include <catch2/catch.hpp>

namespace kubepp::util {

// Expected values are what Go's strconv.Quote returns for the same input.
TEST_CASE("strings: GoQuote quotes as Go's strconv.Quote", "[strings]") {
  CHECK(GoQuote("") == R"("")");
  CHECK(GoQuote("web-1") == R"("web-1")");
  CHECK(GoQuote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(GoQuote("\a\b\f\n\r\t\v") == R"("\a\b\f\n\r\t\v")");
  CHECK(GoQuote(std::string_view("\x00\x01\x1f\x7f", 4)) == R"("\x00\x01\x1f\x7f")");
  // Printable UTF-8 stays as it is.
  CHECK(GoQuote("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"");
  // Not printable: C1 controls, NBSP, zero-width space, BOM, private use (BMP and beyond).
  CHECK(GoQuote("\xc2\x85") == R"("\u0085")");
  CHECK(GoQuote("\xc2\xa0") == R"("\u00a0")");
  CHECK(GoQuote("\xe2\x80\x8b") == R"("\u200b")");
  CHECK(GoQuote("\xef\xbb\xbf") == R"("\ufeff")");
  CHECK(GoQuote("\xee\x80\x80") == R"("\ue000")");
  CHECK(GoQuote("\xf3\xb0\x80\x80") == R"("\U000f0000")");
  // Invalid UTF-8, byte by byte: a lone continuation byte, an overlong form, a surrogate,
  // a truncated sequence.
  CHECK(GoQuote("\x80") == R"("\x80")");
  CHECK(GoQuote("\xc0\xaf") == R"("\xc0\xaf")");
  CHECK(GoQuote("\xed\xa0\x80") == R"("\xed\xa0\x80")");
  CHECK(GoQuote("a\xe6\x97") == R"("a\xe6\x97")");
  std::string out = "k=";
  AppendGoQuoted(&out, "v\n");
  CHECK(out == R"(k="v\n")");
}

}  // namespace kubepp::util

TEST_CASE("strings: AsciiLower lowers ASCII letters only", "[strings]") {
  CHECK(kubepp::util::AsciiLower("TCP") == "tcp");
  CHECK(kubepp::util::AsciiLower("Web-1.Example.COM") == "web-1.example.com");
  CHECK(kubepp::util::AsciiLower("\xc3\x89t\xc3\xa9") == "\xc3\x89t\xc3\xa9");
}
