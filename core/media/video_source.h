// VideoSource: frames from a camera (V4L2 on Linux), a video file or a stream URL, through
// OpenCV's VideoCapture, with errors that say which device or file and what went wrong.
// Blocking; the UI runs it on its own thread (ui/session/capture_thread.h).
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <memory>
#include <string>
#include <vector>

namespace r18 {

struct CameraInfo {
    int index = 0;       // N of /dev/videoN
    std::string device;  // "/dev/video0"
    std::string name;    // from /sys/class/video4linux/videoN/name, or the device path
};

// Video capture devices present now, by index. Empty without any.
std::vector<CameraInfo> listCameras();

class VideoSource {
public:
    // `spec` is a camera index ("0"), a device ("/dev/video2"), a file or a URL. width/height > 0
    // ask a camera for that resolution. Throws VideoError when it cannot be opened.
    static std::unique_ptr<VideoSource> open(const std::string& spec, int width = 0,
                                             int height = 0);

    // The next frame (BGR 8-bit). False at the end of a file or when a camera fails to deliver.
    bool read(cv::Mat& frame);
    // Back to the first frame of a file (for looping); false for cameras and streams.
    bool rewind();

    bool isCamera() const { return m_camera; }
    bool isFile() const { return m_file; }
    double fps() const { return m_fps; }  // as reported; 0 if unknown
    cv::Size size() const { return m_size; }
    const std::string& label() const {
        return m_label;
    }  // "camera 0 (Integrated Webcam)", "clip.avi"

private:
    cv::VideoCapture m_capture;
    bool m_camera = false;
    bool m_file = false;
    double m_fps = 0.0;
    cv::Size m_size;
    std::string m_label;
};

}  // namespace r18
