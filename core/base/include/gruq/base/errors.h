#pragma once
// Error types shared by every core module. Bad input from outside (datasets, configs, archives,
// blobs) is an InputError whose message names the file and the problem, so the CLI can print it
// and exit non-zero and the GUI can show it in a dialog.
#include <stdexcept>
#include <string>

namespace gruq {

class InputError : public std::runtime_error {
public:
    InputError(std::string path, std::string problem);
    const std::string& path() const { return path_; }
    const std::string& problem() const { return problem_; }

private:
    std::string path_;
    std::string problem_;
};

// Thrown from long work when the caller's cancel flag was raised.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace gruq
