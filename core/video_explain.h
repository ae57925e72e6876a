// A video with where the network looked drawn over every frame: each frame of a file (or camera,
// or stream) is classified, its CAM or Grad-CAM heat map is drawn over the region the network
// sees, with the top-1 class, and the frame is written to a new video with the same frame rate
// (core/media/video_writer.h: H.264 MP4 or MJPG AVI, written whole, then renamed into place).
// Frames are never dropped: a file gives as many frames out as it has in.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/attribution.h"
#include "core/media/preprocess.h"
#include "core/media/video_writer.h"
#include "core/model/model.h"
#include "core/progress.h"
#include "core/tensor.h"

namespace r18 {

// The heat map `heat` (S×S values in [0, 1], heatValues() of a map) over the part of `frame`
// (8-bit BGR, any size) the network sees — the crop `preprocess` takes, scaled back to the frame —
// as the inferno colour map blended at `opacity`, with that region outlined and `caption` (ASCII;
// e.g. "Samoyed 93.1%") written above it. Returns a new 8-bit BGR image of the frame's size.
cv::Mat drawHeatOverlay(const cv::Mat& frame, const Tensor& heat,
                        const PreprocessOptions& preprocess, const std::string& caption,
                        float opacity = 0.5F);

struct VideoExplainOptions {
    std::string input;   // a video file (or a camera or stream URL, which run until cancelled)
    std::string output;  // .mp4 (H.264) or .avi (MJPG): videoFormatForPath()
    AttributionMethod method = AttributionMethod::Cam;  // Cam or GradCam
    std::string layer = "layer4";                       // as AttributionOptions::layer
    int64_t classIndex = -1;                            // -1: each frame's own top-1
    int threads = 0;
    float opacity = 0.5F;
    bool keepMaps = false;  // hand each frame's map back in VideoExplainReport::maps
};

struct VideoExplainReport {
    int frames = 0;           // frames written
    int framesInInput = 0;    // as the container states it; 0 when it does not (camera, stream)
    double fps = 0.0;         // of the output (the input's; 25 if it states none)
    bool fpsGuessed = false;  // the input stated no frame rate
    VideoFormat format = VideoFormat::MjpgAvi;
    bool cancelled = false;    // `progress` asked to stop: the output holds the frames before it
    std::string layer;         // block output the maps were computed at
    std::vector<Tensor> maps;  // keepMaps: per frame, [1,h,w] at the layer's resolution
    double seconds = 0.0;
};

// Reads every frame of options.input and writes options.output. `progress` is called after each
// frame with (frames done, framesInInput or 0); returning false stops at that frame and still
// finishes the file (playable, renamed into place). Throws VideoError for an input that cannot be
// opened or an output that cannot be written, EngineError for a method or layer that does not
// fit (before any frame is written).
VideoExplainReport explainVideo(std::shared_ptr<const Model> model,
                                const VideoExplainOptions& options,
                                const ProgressFn& progress = {});

}  // namespace r18
