#include "gruq/model/model_import.h"

#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"
#include "gruq/base/paths.h"
#include "gruq/data/npz_archive.h"
#include "gruq/model/onnx_gru_reader.h"
#include "gruq/model/torch_save_reader.h"
#include "gruq/model/torchscript_reader.h"

#include <map>

namespace gruq {
namespace {

bool isZip(const std::string& bytes) { return bytes.compare(0, 4, std::string("PK\x03\x04", 4)) == 0; }

bool isTorchScriptArchive(const std::map<std::string, std::string>& members) {
    for (const auto& [name, bytes] : members) {
        if (name.size() >= 13 && name.compare(name.size() - 13, 13, "constants.pkl") == 0) return true;
        if (name.find("/code/") != std::string::npos) return true;
    }
    return false;
}

}  // namespace

ImportedModel importFloatModel(const ModelImportOptions& options) {
    const std::string& path = options.path;
    const std::string bytes = readWholeFile(path);
    NamedTensors tensors;
    std::string format;
    if (isZip(bytes)) {
        const auto members = readZipMembers(bytes, path, "PyTorch", uint64_t(4) << 30);
        if (isTorchScriptArchive(members)) {
            format = "TorchScript";
            tensors = readTorchScript(bytes, path);
        } else {
            format = "PyTorch state_dict";
            tensors = readTorchSaveMembers(members, path);
        }
    } else if (isLegacyTorchSave(bytes)) {
        tensors = readTorchSaveBytes(bytes, path);  // refuses with the message saying how to re-save
    } else if (isOnnxModel(bytes)) {
        format = "ONNX";
        tensors = readOnnxGru(bytes, path);
    } else {
        throw InputError(path, "not a model file gruq reads: expected a PyTorch state_dict (torch.save), "
                               "a TorchScript file (torch.jit.save) or an ONNX file (torch.onnx.export)");
    }
    ImportedModel model = gruFromTensors(tensors, options, path);
    model.format = format;
    model.fileHash = hex64(fnv1a64(bytes));
    return model;
}

}  // namespace gruq
