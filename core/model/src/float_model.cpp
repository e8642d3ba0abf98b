#include "gruq/model/float_model.h"

#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace gruq {
namespace {

constexpr char kMagic[8] = {'G', 'R', 'U', 'Q', 'F', 'L', 'T', '2'};
constexpr char kMagicOneLayer[8] = {'G', 'R', 'U', 'Q', 'F', 'L', 'T', '1'};  // version 1: no layer count

void appendRaw(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }

void appendArray(std::string& out, const std::vector<float>& v) {
    const auto n = static_cast<uint64_t>(v.size());
    appendRaw(out, &n, sizeof n);
    appendRaw(out, v.data(), v.size() * sizeof(float));
}

class Reader {
public:
    Reader(const std::string& bytes, const std::string& path) : bytes_(bytes), path_(path) {}
    void raw(void* p, size_t n) {
        if (pos_ + n > bytes_.size()) throw InputError(path_, "truncated float model file");
        std::memcpy(p, bytes_.data() + pos_, n);
        pos_ += n;
    }
    std::vector<float> array() {
        uint64_t n = 0;
        raw(&n, sizeof n);
        if (n > (bytes_.size() - pos_) / sizeof(float)) throw InputError(path_, "truncated float model file");
        std::vector<float> v(n);
        raw(v.data(), n * sizeof(float));
        return v;
    }
    size_t position() const { return pos_; }

private:
    const std::string& bytes_;
    const std::string& path_;
    size_t pos_ = 0;
};

}  // namespace

std::string GruShape::key() const {
    const std::string layers = numLayers == 1 ? "" : "x" + std::to_string(numLayers);
    return "F" + std::to_string(inputSize) + "-H" + std::to_string(hiddenSize) + layers + "-C" +
           std::to_string(numClasses);
}

int64_t FloatGruWeights::parameterCount() const {
    size_t count = wFc.size() + bFc.size();
    for (const FloatGruLayer& l : layers) count += l.wIh.size() + l.wHh.size() + l.bIh.size() + l.bHh.size();
    return static_cast<int64_t>(count);
}

void FloatGruWeights::validate(const std::string& source) const {
    const int64_t F = shape.inputSize, H = shape.hiddenSize, C = shape.numClasses, L = shape.numLayers;
    if (F <= 0 || H <= 0 || C <= 1) throw InputError(source, "invalid GRU shape " + shape.key());
    if (H > kMaxHiddenSize) {
        throw InputError(source, "hidden size " + std::to_string(H) + " is above " + std::to_string(kMaxHiddenSize) +
                                     ", the largest gruq supports");
    }
    if (L < 1 || L > kMaxGruLayers) {
        throw InputError(source, "a GRU of " + std::to_string(L) + " layers; gruq supports 1.." +
                                     std::to_string(kMaxGruLayers) + " stacked layers");
    }
    if (static_cast<int64_t>(layers.size()) != L) {
        throw InputError(source, "shape " + shape.key() + " has " + std::to_string(L) + " layers, the weights " +
                                     std::to_string(layers.size()));
    }
    auto check = [&](const std::vector<float>& v, int64_t expected, const std::string& name) {
        if (static_cast<int64_t>(v.size()) != expected) {
            throw InputError(source, name + " has " + std::to_string(v.size()) + " values, shape " + shape.key() +
                                         " needs " + std::to_string(expected));
        }
    };
    for (int64_t l = 0; l < L; ++l) {
        const std::string suffix = L == 1 ? "" : " of layer " + std::to_string(l + 1);
        const FloatGruLayer& layer = layers[size_t(l)];
        check(layer.wIh, 3 * H * shape.layerInputSize(l), "W_ih" + suffix);
        check(layer.wHh, 3 * H * H, "W_hh" + suffix);
        check(layer.bIh, 3 * H, "b_ih" + suffix);
        check(layer.bHh, 3 * H, "b_hh" + suffix);
    }
    check(wFc, C * H, "W_fc");
    check(bFc, C, "b_fc");
}

void saveFloatWeights(const std::string& path, const FloatGruWeights& w) {
    w.validate(path);
    std::string out;
    appendRaw(out, kMagic, sizeof kMagic);
    const int64_t dims[4] = {w.shape.inputSize, w.shape.hiddenSize, w.shape.numClasses, w.shape.numLayers};
    appendRaw(out, dims, sizeof dims);
    for (const FloatGruLayer& l : w.layers) {
        for (const auto* v : {&l.wIh, &l.wHh, &l.bIh, &l.bHh}) appendArray(out, *v);
    }
    for (const auto* v : {&w.wFc, &w.bFc}) appendArray(out, *v);
    const uint64_t checksum = fnv1a64(out);
    appendRaw(out, &checksum, sizeof checksum);

    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw InputError(path, "cannot write model file");
        f.write(out.data(), static_cast<std::streamsize>(out.size()));
        if (!f) throw InputError(path, "write failed (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw InputError(path, "cannot move model file into place: " + ec.message());
}

FloatGruWeights loadFloatWeights(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw InputError(path, "model file not found or unreadable");
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const bool oneLayerFormat = bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagicOneLayer, sizeof kMagic) == 0;
    if (bytes.size() < sizeof kMagic + 8 || (!oneLayerFormat && std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)) {
        throw InputError(path, "not a gruq float model file (bad magic)");
    }
    uint64_t stored = 0;
    std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
    if (fnv1a64(bytes.substr(0, bytes.size() - 8)) != stored) throw InputError(path, "checksum mismatch: file is damaged");

    Reader r(bytes, path);
    char magic[8];
    r.raw(magic, sizeof magic);
    int64_t dims[4] = {0, 0, 0, 1};
    r.raw(dims, oneLayerFormat ? 3 * sizeof(int64_t) : sizeof dims);
    FloatGruWeights w;
    w.shape = {dims[0], dims[1], dims[2], dims[3]};
    if (w.shape.numLayers < 1 || w.shape.numLayers > kMaxGruLayers) {
        throw InputError(path, "float model of " + std::to_string(w.shape.numLayers) + " layers (supported: 1.." +
                                   std::to_string(kMaxGruLayers) + ")");
    }
    w.layers.resize(size_t(w.shape.numLayers));
    for (FloatGruLayer& l : w.layers) {
        for (auto* v : {&l.wIh, &l.wHh, &l.bIh, &l.bHh}) *v = r.array();
    }
    for (auto* v : {&w.wFc, &w.bFc}) *v = r.array();
    w.validate(path);
    return w;
}

}  // namespace gruq
