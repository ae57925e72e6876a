#include "core/media/heif.h"

#include <avif/avif.h>
#include <libheif/heif.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace r18 {
namespace {

uint32_t be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string tooLarge(const std::string& label, const char* format, int64_t w, int64_t h,
                     int64_t maxPixels) {
    return label + ": the " + format + " image is " + std::to_string(w) + "×" + std::to_string(h) +
           "; images over " + std::to_string(maxPixels / 1'000'000) + " megapixels are refused.";
}

}  // namespace

std::string heifFormat(const uint8_t* d, size_t n) {
    if (n < 16 || std::memcmp(d + 4, "ftyp", 4) != 0) return {};
    const size_t boxSize = std::min<size_t>(be32(d), n);
    bool heic = false;
    bool avif = false;
    // The major brand at 8, the minor version at 12, compatible brands from 16.
    for (size_t at = 8; at + 4 <= boxSize; at += at == 8 ? 8 : 4) {
        const std::string brand(reinterpret_cast<const char*>(d + at), 4);
        if (brand == "avif" || brand == "avis") avif = true;
        if (brand == "heic" || brand == "heix" || brand == "heim" || brand == "heis" ||
            brand == "hevc" || brand == "hevx")
            heic = true;
    }
    return avif ? "AVIF" : heic ? "HEIC" : "";
}

cv::Mat decodeHeic(const uint8_t* data, size_t size, const std::string& label, int64_t maxPixels) {
    std::unique_ptr<heif_context, decltype(&heif_context_free)> ctx(heif_context_alloc(),
                                                                    heif_context_free);
    auto check = [&](heif_error e, const char* what) {
        if (e.code == heif_error_Ok) return;
        std::string detail = e.message ? e.message : "";
        while (!detail.empty() && std::isspace(static_cast<unsigned char>(detail.back())))
            detail.pop_back();
        throw ImageError(label + ": " + what + " (" + detail + ").");
    };
    check(heif_context_read_from_memory_without_copy(ctx.get(), data, size, nullptr),
          "not a HEIC image libheif can read");
    heif_image_handle* rawHandle = nullptr;
    check(heif_context_get_primary_image_handle(ctx.get(), &rawHandle),
          "the HEIC file has no primary image");
    std::unique_ptr<heif_image_handle, decltype(&heif_image_handle_release)> handle(
        rawHandle, heif_image_handle_release);
    // The size the container declares ('ispe'), before decoding anything.
    const int64_t w = heif_image_handle_get_ispe_width(handle.get());
    const int64_t h = heif_image_handle_get_ispe_height(handle.get());
    if (w <= 0 || h <= 0)
        throw ImageError(label +
                         ": the HEIC header does not say how large the image is; it is "
                         "not decoded.");
    if (w * h > maxPixels) throw ImageError(tooLarge(label, "HEIC", w, h, maxPixels));
    heif_image* rawImage = nullptr;
    // Default options: the container's transformations (irot, imir, clap) are applied.
    check(heif_decode_image(handle.get(), &rawImage, heif_colorspace_RGB,
                            heif_chroma_interleaved_RGB, nullptr),
          "the HEIC image cannot be decoded");
    std::unique_ptr<heif_image, decltype(&heif_image_release)> image(rawImage, heif_image_release);
    const int width = heif_image_get_width(image.get(), heif_channel_interleaved);
    const int height = heif_image_get_height(image.get(), heif_channel_interleaved);
    int stride = 0;
    const uint8_t* pixels =
        heif_image_get_plane_readonly(image.get(), heif_channel_interleaved, &stride);
    if (!pixels || width <= 0 || height <= 0 || static_cast<int64_t>(width) * height > maxPixels)
        throw ImageError(label + ": the HEIC image cannot be decoded (no pixels).");
    cv::Mat bgr;
    cv::cvtColor(
        cv::Mat(height, width, CV_8UC3, const_cast<uint8_t*>(pixels), static_cast<size_t>(stride)),
        bgr, cv::COLOR_RGB2BGR);
    return bgr;
}

cv::Mat decodeAvif(const uint8_t* data, size_t size, const std::string& label, int64_t maxPixels) {
    std::unique_ptr<avifDecoder, decltype(&avifDecoderDestroy)> decoder(avifDecoderCreate(),
                                                                        avifDecoderDestroy);
    if (!decoder) throw ImageError(label + ": there is not enough memory for it.");
    // libavif's own limit (268 megapixels) stays as a second line; the declared size is checked
    // here against ours, after parsing and before decoding, with a message saying what it is.
    decoder->imageCountLimit = 1;  // the primary image; an image sequence stops after its first
    decoder->maxThreads = 1;
    auto check = [&](avifResult r, const char* what) {
        if (r != AVIF_RESULT_OK)
            throw ImageError(label + ": " + what + " (" + avifResultToString(r) + ").");
    };
    check(avifDecoderSetIOMemory(decoder.get(), data, size), "not an AVIF image");
    // Parsing reads the container (the declared size) without decoding any pixel.
    check(avifDecoderParse(decoder.get()), "not an AVIF image libavif can read");
    const avifImage* header = decoder->image;
    const int64_t w = header->width, h = header->height;
    if (w <= 0 || h <= 0)
        throw ImageError(label +
                         ": the AVIF header does not say how large the image is; it is "
                         "not decoded.");
    if (w * h > maxPixels) throw ImageError(tooLarge(label, "AVIF", w, h, maxPixels));
    check(avifDecoderNextImage(decoder.get()), "the AVIF image cannot be decoded");
    avifImage* image = decoder->image;
    avifRGBImage rgb;
    avifRGBImageSetDefaults(&rgb, image);
    // As avifdec writes a PNG: 8 bits, RGB (RGBA with alpha, which convert("RGB") then drops).
    rgb.depth = 8;
    rgb.format = image->alphaPlane ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
    avifRGBImageAllocatePixels(&rgb);
    std::unique_ptr<avifRGBImage, decltype(&avifRGBImageFreePixels)> pixels(&rgb,
                                                                            avifRGBImageFreePixels);
    check(avifImageYUVToRGB(image, &rgb), "the AVIF image cannot be converted to RGB");
    cv::Mat bgr;
    const cv::Mat src(static_cast<int>(rgb.height), static_cast<int>(rgb.width),
                      image->alphaPlane ? CV_8UC4 : CV_8UC3, rgb.pixels, rgb.rowBytes);
    cv::cvtColor(src, bgr, image->alphaPlane ? cv::COLOR_RGBA2BGR : cv::COLOR_RGB2BGR);
    // Orientation as the container reports it: irot (90° steps anti-clockwise), then imir, the
    // order in which avifenc writes them and libheif applies them.
    if (image->transformFlags & AVIF_TRANSFORM_IROT) {
        switch (image->irot.angle & 3) {
            case 1: cv::rotate(bgr, bgr, cv::ROTATE_90_COUNTERCLOCKWISE); break;
            case 2: cv::rotate(bgr, bgr, cv::ROTATE_180); break;
            case 3: cv::rotate(bgr, bgr, cv::ROTATE_90_CLOCKWISE); break;
            default: break;
        }
    }
    if (image->transformFlags & AVIF_TRANSFORM_IMIR)
        cv::flip(bgr, bgr, image->imir.mode == 0 ? 0 : 1);  // 0: top-to-bottom, 1: left-to-right
    return bgr;
}

}  // namespace r18
