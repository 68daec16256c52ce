// libFuzzer target: the resume data decoder (a file on disk anyone with access may edit),
// and a round trip through the encoder.
#include <cstdlib>
#include <string_view>

#include "p2p/storage/resume_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  p2p::ResumeData rd;
  try {
    rd = p2p::decode_resume_data(in);
  } catch (const std::runtime_error&) {
    return 0;
  }
  auto again = p2p::decode_resume_data(p2p::encode_resume_data(rd));
  if (again.info_hash != rd.info_hash || again.have != rd.have || again.files != rd.files) {
    std::abort();
  }
  return 0;
}
