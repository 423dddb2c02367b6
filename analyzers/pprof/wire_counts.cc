#include "analyzers/pprof/wire_counts.h"

#include <cstdint>
#include <string>

#include "analyzers/pprof/profile.h"

namespace leaklab::pprof::internal {

namespace {

// Protocol Buffers encoding (protobuf.dev, "Encoding"): a field is a varint
// key, (field number << 3) | wire type, then its value: 0 varint, 1 eight
// bytes, 2 a varint length and that many bytes, 5 four bytes; 3 and 4 are
// groups, which profile.proto does not use.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }

  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) Fail("a truncated varint");
      const auto byte = static_cast<unsigned char>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    Fail("a varint longer than 10 bytes");
  }

  // Reads one field; returns its number and wire type, and for a
  // length-delimited field its bytes in `payload`.
  void Field(uint32_t& number, uint32_t& type, std::string_view& payload) {
    const uint64_t key = Varint();
    number = static_cast<uint32_t>(key >> 3);
    type = static_cast<uint32_t>(key & 7);
    switch (type) {
      case 0:
        Varint();
        return;
      case 1:
        Skip(8);
        return;
      case 2: {
        const uint64_t length = Varint();
        if (length > data_.size() - pos_) Fail("a length past the end of the data");
        payload = data_.substr(pos_, length);
        pos_ += length;
        return;
      }
      case 5:
        Skip(4);
        return;
      default:
        Fail("wire type " + std::to_string(type) + ", which profile.proto does not use");
    }
  }

 private:
  void Skip(std::size_t n) {
    if (n > data_.size() - pos_) Fail("a fixed-size value past the end of the data");
    pos_ += n;
  }
  [[noreturn]] void Fail(const std::string& what) const {
    throw ProfileError(
        "not a valid profile.proto message: the protobuf wire data is malformed or truncated (" +
        what + " at byte " + std::to_string(pos_) + ")");
  }

  std::string_view data_;
  std::size_t pos_ = 0;
};

// How many varints a packed field holds: each ends with a byte whose high
// bit is clear.
std::size_t PackedVarints(std::string_view payload) {
  std::size_t n = 0;
  for (const char c : payload) n += (static_cast<unsigned char>(c) & 0x80) == 0;
  return n;
}

// The repeated entries of a sample (location ids, values, labels) or of a
// location (lines): one each, or one per varint when packed.
std::size_t NestedElements(std::string_view message, bool sample) {
  std::size_t n = 0;
  WireReader r(message);
  while (!r.done()) {
    uint32_t number = 0, type = 0;
    std::string_view payload;
    r.Field(number, type, payload);
    const bool repeated = sample ? (number >= 1 && number <= 3) : number == 4;
    if (!repeated) continue;
    const bool packed_numbers = sample && number <= 2 && type == 2;
    n += packed_numbers ? PackedVarints(payload) : 1;
  }
  return n;
}

}  // namespace

WireCounts CountWire(std::string_view message) {
  WireCounts c;
  WireReader r(message);
  while (!r.done()) {
    uint32_t number = 0, type = 0;
    std::string_view payload;
    r.Field(number, type, payload);
    switch (number) {
      case 2:
        ++c.samples;
        if (type == 2) c.elements += NestedElements(payload, true);
        break;
      case 3:
        ++c.mappings;
        break;
      case 4:
        ++c.locations;
        if (type == 2) c.elements += NestedElements(payload, false);
        break;
      case 5:
        ++c.functions;
        break;
      case 6:
        ++c.strings;
        break;
      default:
        break;
    }
  }
  return c;
}

}  // namespace leaklab::pprof::internal
