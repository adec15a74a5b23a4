// String helpers shared by components.
// Thread safety: stateless.
#pragma once

#include <string>
#include <string_view>

namespace kubepp::util {

// Go's strconv.Quote (what %q prints, e.g. in upstream's validation messages): the text
// in double quotes; `"` and `\` backslashed; \a \b \f \n \r \t \v; other ASCII controls
// as \xNN; valid UTF-8 kept where printable and escaped as \uNNNN / \UNNNNNNNN where not
// (C1 controls, non-ASCII spaces and separators, format characters such as U+200B and
// U+FEFF, private use, noncharacters); each byte of invalid UTF-8 as \xNN.
// Approximation: code points Unicode leaves unassigned print as they are (Go escapes
// them; that needs Unicode's tables).
std::string GoQuote(std::string_view s);
// The same, appended to *out.
void AppendGoQuoted(std::string* out, std::string_view s);

// `s` with ASCII letters in lower case (other bytes as they are): protocol names, DNS
// labels, registry hosts.
std::string AsciiLower(std::string s);

}  // namespace kubepp::util
