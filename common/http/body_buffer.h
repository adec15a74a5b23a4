// Internal to common/http (server.cc and client.cc, the Beast translation units): how
// much room a connection's read buffer gets for a message body. Not for other headers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <boost/beast/core/flat_buffer.hpp>

namespace kubepp::http::internal {

// Beast reads at most max(512, free capacity) bytes into a flat_buffer per read
// (beast::read_size), and a body parser empties the buffer as it goes, so a buffer sized
// for a header reads a large body 512 bytes at a time: a 175 KB Endpoints PUT took ~340
// reads, each with its epoll and timer calls, ~15 ms of the apiserver's CPU.
inline constexpr std::size_t kBodyReadBytes = 64 * 1024;

// Called with the header parsed and the body not yet read: makes room in `buffer` for
// reads of up to kBodyReadBytes, or of the whole body when its Content-Length says it is
// smaller. A chunked body (length unknown) gets the full room.
template <class Parser>
void ReserveForBody(boost::beast::flat_buffer& buffer, const Parser& parser) {
  if (parser.is_done()) return;
  auto length = parser.content_length();
  std::size_t want = kBodyReadBytes;
  if (length) want = static_cast<std::size_t>(std::min<std::uint64_t>(*length, kBodyReadBytes));
  if (buffer.capacity() - buffer.size() < want) buffer.reserve(buffer.size() + want);
}

// Gives back the room of a large body once the buffer holds nothing: an idle keep-alive
// connection keeps only a header's worth.
inline void ReleaseBodyRoom(boost::beast::flat_buffer& buffer) {
  if (buffer.size() == 0 && buffer.capacity() > kBodyReadBytes / 4) buffer.shrink_to_fit();
}

}  // namespace kubepp::http::internal
