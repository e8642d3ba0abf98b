#include "gruq/base/errors.h"

namespace gruq {

InputError::InputError(std::string path, std::string problem)
    : std::runtime_error(path + ": " + problem), path_(std::move(path)), problem_(std::move(problem)) {}

}  // namespace gruq
