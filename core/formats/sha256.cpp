#include "core/formats/sha256.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace r18 {
namespace {

constexpr std::array<uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

void compress(std::array<uint32_t, 8>& h, const uint8_t* block) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
        w[i] = (uint32_t{block[4 * i]} << 24) | (uint32_t{block[4 * i + 1]} << 16) |
               (uint32_t{block[4 * i + 2]} << 8) | block[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
        const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; ++i) {
        const uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                            kRound[static_cast<size_t>(i)] + w[i];
        const uint32_t t2 =
            (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void compressBlocks(std::array<uint32_t, 8>& h, const uint8_t* data, size_t blocks) {
    for (size_t i = 0; i < blocks; ++i) compress(h, data + 64 * i);
}

// The same with the x86 SHA extensions (Intel since Goldmont/Ice Lake, AMD since Zen): ~4× the
// speed, which is most of what opening a 45 MB weights file costs. The state is kept as the
// instructions want it, ABEF and CDGH in two registers.
__attribute__((target("sha,sse4.1"))) void compressBlocksShaNi(std::array<uint32_t, 8>& h,
                                                               const uint8_t* data, size_t blocks) {
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[0]));
    __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[4]));
    abcd = _mm_shuffle_epi32(abcd, 0xB1);              // B A D C
    efgh = _mm_shuffle_epi32(efgh, 0x1B);              // H G F E
    __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);     // F E B A
    __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);  // H G D C
    for (size_t b = 0; b < blocks; ++b, data += 64) {
        const __m128i abefBefore = abef;
        const __m128i cdghBefore = cdgh;
        __m128i w[16];
        for (int i = 0; i < 4; ++i)
            w[i] = _mm_shuffle_epi8(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)), byteSwap);
        for (int i = 0; i < 16; ++i) {
            if (i >= 4) {  // words 4i..4i+3 of the message schedule
                const __m128i w7 = _mm_alignr_epi8(w[i - 1], w[i - 2], 4);
                w[i] = _mm_sha256msg2_epu32(
                    _mm_add_epi32(_mm_sha256msg1_epu32(w[i - 4], w[i - 3]), w7), w[i - 1]);
            }
            __m128i k = _mm_add_epi32(
                w[i], _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kRound[4 * i])));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
            k = _mm_shuffle_epi32(k, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, k);
        }
        abef = _mm_add_epi32(abef, abefBefore);
        cdgh = _mm_add_epi32(cdgh, cdghBefore);
    }
    const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);  // A B E F
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);  // G H C D
    abcd = _mm_blend_epi16(feba, dchg, 0xF0);            // A B C D
    efgh = _mm_alignr_epi8(dchg, feba, 8);               // E F G H
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[0]), abcd);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[4]), efgh);
}

bool cpuHasShaExtensions() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool sha = (ebx >> 29) & 1U;
    unsigned eax1 = 0, ebx1 = 0, ecx1 = 0, edx1 = 0;
    if (!__get_cpuid(1, &eax1, &ebx1, &ecx1, &edx1)) return false;
    const bool sse41 = (ecx1 >> 19) & 1U;
    const bool ssse3 = (ecx1 >> 9) & 1U;
    return sha && sse41 && ssse3;
}

using CompressFn = void (*)(std::array<uint32_t, 8>&, const uint8_t*, size_t);

CompressFn compressor(bool allowExtensions) {
    static const bool extensions = cpuHasShaExtensions();
    return allowExtensions && extensions ? compressBlocksShaNi : compressBlocks;
}

std::string digest(const uint8_t* data, size_t size,
                   const std::function<void(size_t offset, size_t length)>& hashed,
                   bool allowExtensions) {
    const CompressFn blocks = compressor(allowExtensions);
    std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const size_t full = size / 64;
    constexpr size_t kChunkBlocks = (size_t{1} << 20) / 64;
    for (size_t first = 0; first < full; first += kChunkBlocks) {
        const size_t last = std::min(full, first + kChunkBlocks);
        blocks(h, data + 64 * first, last - first);
        if (hashed) hashed(64 * first, 64 * (last - first));
    }
    uint8_t tail[128] = {};
    const size_t rest = size - 64 * full;
    if (rest) std::memcpy(tail, data + 64 * full, rest);
    tail[rest] = 0x80;
    const size_t tailLen = rest < 56 ? 64 : 128;
    const uint64_t bits = static_cast<uint64_t>(size) * 8;
    for (int i = 0; i < 8; ++i)
        tail[tailLen - 1 - static_cast<size_t>(i)] = static_cast<uint8_t>(bits >> (8 * i));
    blocks(h, tail, tailLen / 64);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (uint32_t v : h)
        for (int s = 28; s >= 0; s -= 4) out += hex[(v >> s) & 0xF];
    return out;
}

}  // namespace

bool sha256UsesShaExtensions() {
    return compressor(true) != compressor(false);
}

std::string sha256HexPortable(const uint8_t* data, size_t size) {
    return digest(data, size, {}, false);
}

std::string sha256Hex(const uint8_t* data, size_t size) {
    return sha256Hex(data, size, {});
}

std::string sha256Hex(const uint8_t* data, size_t size,
                      const std::function<void(size_t offset, size_t length)>& hashed) {
    return digest(data, size, hashed, true);
}

}  // namespace r18
