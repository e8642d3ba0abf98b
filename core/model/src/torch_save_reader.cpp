#include "gruq/model/torch_save_reader.h"

#include "gruq/base/errors.h"
#include "gruq/data/npz_archive.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>

namespace gruq {
namespace {

// A pickled value. Containers are shared so that a memoised dict filled later (SETITEMS after BINPUT)
// is the same object wherever the memo hands it out.
struct Value;
using Ref = std::shared_ptr<Value>;
enum class Kind { None, Bool, Int, Float, Text, Tuple, List, Dict, Global, Storage, Tensor };

struct Value {
    Value() = default;
    Value(const Value&) = delete;
    Value& operator=(const Value&) = delete;
    // Iterative teardown: a hostile pickle may nest containers a million levels deep, which a recursive
    // chain of shared_ptr destructors would turn into a stack overflow.
    ~Value() {
        std::vector<Ref> pending = std::move(items);
        while (!pending.empty()) {
            Ref r = std::move(pending.back());
            pending.pop_back();
            if (r && r.use_count() == 1) {
                for (Ref& child : r->items) pending.push_back(std::move(child));
                r->items.clear();
            }
        }
    }

    Kind kind = Kind::None;
    uint64_t serial = 0;      // creation order of mutable containers (dict, list)
    uint64_t minSerial = ~uint64_t(0);  // smallest serial of a dict / list reachable from here (itself included)
    int64_t integer = 0;
    double real = 0;
    std::string text;         // Text; Global: "module.name"; Storage: its key
    std::vector<Ref> items;   // Tuple / List; Dict: key, value, key, value, ...
    std::string storageType;  // Storage: "FloatStorage", ...
    int64_t storageElements = 0;
    NamedTensor tensor;       // Tensor (name filled when flattened)
};

Ref make(Kind kind) {
    auto v = std::make_shared<Value>();
    v->kind = kind;
    return v;
}

const char* kindName(Kind k) {
    switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an integer";
    case Kind::Float: return "a float";
    case Kind::Text: return "a string";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Global: return "a Python class";
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
    }
    return "?";
}

// Element types of torch storages, as named in the pickle (torch.FloatStorage, ...).
struct StorageType {
    const char* name;
    int bytes;
    bool floatingPoint;
};
constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", 4, true}, {"DoubleStorage", 8, true}, {"HalfStorage", 2, true}, {"BFloat16Storage", 2, true},
    {"LongStorage", 8, false}, {"IntStorage", 4, false},   {"ShortStorage", 2, false}, {"CharStorage", 1, false},
    {"ByteStorage", 1, false}, {"BoolStorage", 1, false},
};

const StorageType* storageTypeNamed(const std::string& name) {
    for (const StorageType& t : kStorageTypes)
        if (name == t.name) return &t;
    return nullptr;
}

size_t storageTypeIndex(const StorageType& type) { return size_t(&type - kStorageTypes); }

float halfToFloat(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu, bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int shift = 0;
            while (!(mantissa & 0x400u)) {
                mantissa <<= 1;
                ++shift;
            }
            mantissa &= 0x3ffu;
            bits = sign | (uint32_t(127 - 15 - shift + 1) << 23) | (mantissa << 13);
        }
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Element `index` of a storage of kStorageTypes[type] (the table's order).
float elementAt(const std::string& bytes, size_t type, int64_t index) {
    const char* p = bytes.data() + index * kStorageTypes[type].bytes;
    auto load = [p](auto zero) {
        decltype(zero) v;
        std::memcpy(&v, p, sizeof v);
        return v;
    };
    switch (type) {
    case 0: return load(0.0f);
    case 1: return static_cast<float>(load(0.0));
    case 2: return halfToFloat(load(uint16_t(0)));
    case 3: {
        const uint32_t bits = uint32_t(load(uint16_t(0))) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
    case 4: return static_cast<float>(load(int64_t(0)));
    case 5: return static_cast<float>(load(int32_t(0)));
    case 6: return static_cast<float>(load(int16_t(0)));
    case 7: return static_cast<float>(load(int8_t(0)));
    default: return static_cast<float>(load(uint8_t(0)));  // Byte, Bool
    }
}

class Unpickler {
public:
    Unpickler(const std::string& pickle, const std::map<std::string, std::string>& members, std::string folder,
              std::string where)
        : in_(pickle), members_(members), folder_(std::move(folder)), where_(std::move(where)) {}

    Ref run() {
        for (;;) {
            const uint8_t op = byte();
            if (op == '.') break;
            step(op);
        }
        if (stack_.size() != 1) fail("the pickle ends with " + std::to_string(stack_.size()) + " values, not one");
        return stack_.back();
    }

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw InputError(where_, "data.pkl: " + problem + " (at byte " + std::to_string(pos_) + ")");
    }

    uint8_t byte() {
        if (pos_ >= in_.size()) fail("the pickle ends early");
        return static_cast<uint8_t>(in_[pos_++]);
    }
    std::string bytes(uint64_t n) {
        if (n > in_.size() - pos_) fail("the pickle ends early");
        std::string s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    uint64_t unsignedLe(int n) {
        uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= uint64_t(byte()) << (8 * i);
        return v;
    }
    std::string line() {
        const size_t end = in_.find('\n', pos_);
        if (end == std::string::npos) fail("the pickle ends early");
        std::string s = in_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return s;
    }

    Ref pop() {
        if (stack_.size() <= markFloor()) fail("a pickle opcode found too few values");
        Ref v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Ref& top() {
        if (stack_.size() <= markFloor()) fail("a pickle opcode found too few values");
        return stack_.back();
    }
    size_t markFloor() const { return marks_.empty() ? 0 : marks_.back(); }
    std::vector<Ref> popToMark() {
        if (marks_.empty()) fail("a pickle opcode needs a MARK that is missing");
        const size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<Ref> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
        stack_.resize(mark);
        return items;
    }
    void push(Ref v) {
        if (stack_.size() > kMaxStack) fail("the pickle nests too deeply");
        stack_.push_back(std::move(v));
    }
    void pushInt(int64_t v) {
        Ref r = make(Kind::Int);
        r->integer = v;
        push(r);
    }
    void pushText(std::string s) {
        Ref r = make(Kind::Text);
        r->text = std::move(s);
        push(r);
    }
    void pushTuple(std::vector<Ref> items) {
        Ref r = make(Kind::Tuple);
        for (const Ref& i : items) r->minSerial = std::min(r->minSerial, i->minSerial);
        r->items = std::move(items);
        push(r);
    }
    void pushContainer(Kind kind) {
        Ref r = make(kind);
        r->serial = r->minSerial = ++serials_;
        push(r);
    }
    // Items of a dict or list must be newer than it (as every pickle of a state_dict or checkpoint
    // writes them): no container can then reach itself, so there are no cycles and no shared subtrees.
    void checkNewer(const Ref& container, const std::vector<Ref>& items) {
        for (const Ref& i : items) {
            if (i->minSerial <= container->serial) fail("a dict or list shared between places or holding itself");
        }
    }
    void memoize(uint64_t index) {
        if (memo_.size() > kMaxStack * 64) fail("too many memo entries");
        memo_[index] = top();
    }
    Ref recall(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail("the pickle refers to memo entry " + std::to_string(index) + ", which was never stored");
        return it->second;
    }
    void setItems(Ref& dict, const std::vector<Ref>& items) {
        if (dict->kind != Kind::Dict) fail("SETITEMS on " + std::string(kindName(dict->kind)));
        if (items.size() % 2) fail("SETITEMS with an odd number of values");
        checkNewer(dict, items);
        dict->items.insert(dict->items.end(), items.begin(), items.end());
    }
    void appendItems(Ref& list, const std::vector<Ref>& items) {
        if (list->kind != Kind::List) fail("APPENDS on " + std::string(kindName(list->kind)));
        checkNewer(list, items);
        list->items.insert(list->items.end(), items.begin(), items.end());
    }

    void step(uint8_t op) {
        switch (op) {
        case 0x80: byte(); break;                           // PROTO
        case 0x95: bytes(8); break;                         // FRAME (protocol 4): sizes only
        case 'c': {                                         // GLOBAL
            std::string module = line();
            pushGlobal(module, line());
            break;
        }
        case 0x93: {                                        // STACK_GLOBAL
            Ref name = pop(), module = pop();
            if (name->kind != Kind::Text || module->kind != Kind::Text) fail("STACK_GLOBAL needs two strings");
            pushGlobal(module->text, name->text);
            break;
        }
        case 'q': memoize(byte()); break;                   // BINPUT
        case 'r': memoize(unsignedLe(4)); break;            // LONG_BINPUT
        case 0x94: memoize(memo_.size()); break;            // MEMOIZE
        case 'h': push(recall(byte())); break;              // BINGET
        case 'j': push(recall(unsignedLe(4))); break;       // LONG_BINGET
        case '(':                                            // MARK
            if (marks_.size() > kMaxStack) fail("the pickle nests too deeply");
            marks_.push_back(stack_.size());
            break;
        case '0': pop(); break;                             // POP
        case '1': popToMark(); break;                       // POP_MARK
        case ')': pushTuple({}); break;                     // EMPTY_TUPLE
        case 't': pushTuple(popToMark()); break;            // TUPLE
        case 0x85: { Ref a = pop(); pushTuple({a}); break; }                                    // TUPLE1
        case 0x86: { Ref b = pop(), a = pop(); pushTuple({a, b}); break; }                      // TUPLE2
        case 0x87: { Ref c = pop(), b = pop(), a = pop(); pushTuple({a, b, c}); break; }        // TUPLE3
        case '}': pushContainer(Kind::Dict); break;         // EMPTY_DICT
        case ']': pushContainer(Kind::List); break;         // EMPTY_LIST
        case 'u': { auto items = popToMark(); setItems(top(), items); break; }                  // SETITEMS
        case 's': { Ref v = pop(), k = pop(); setItems(top(), {k, v}); break; }                 // SETITEM
        case 'e': { auto items = popToMark(); appendItems(top(), items); break; }               // APPENDS
        case 'a': { Ref v = pop(); appendItems(top(), {v}); break; }                            // APPEND
        case 'X': case 'T': case 'B': pushText(bytes(unsignedLe(4))); break;  // BINUNICODE, BINSTRING, BINBYTES
        case 0x8c: case 'U': case 'C': pushText(bytes(byte())); break;        // SHORT_ variants
        case 'J': pushInt(static_cast<int32_t>(unsignedLe(4))); break;        // BININT
        case 'K': pushInt(byte()); break;                                      // BININT1
        case 'M': pushInt(static_cast<int64_t>(unsignedLe(2))); break;        // BININT2
        case 0x8a: {                                                            // LONG1
            const int n = byte();
            if (n > 8) fail("an integer of " + std::to_string(n) + " bytes");
            uint64_t v = n ? unsignedLe(n) : 0;
            if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign-extend
            pushInt(static_cast<int64_t>(v));
            break;
        }
        case 'G': {                                                             // BINFLOAT (big-endian)
            uint64_t bits = 0;
            for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();
            Ref r = make(Kind::Float);
            std::memcpy(&r->real, &bits, 8);
            push(r);
            break;
        }
        case 'N': push(make(Kind::None)); break;
        case 0x88: case 0x89: {                                                 // NEWTRUE / NEWFALSE
            Ref r = make(Kind::Bool);
            r->integer = op == 0x88;
            push(r);
            break;
        }
        case 'Q': push(storageFromPersistentId(pop())); break;                 // BINPERSID
        case 'R': {                                                             // REDUCE
            Ref args = pop(), callable = pop();
            push(reduce(callable, args));
            break;
        }
        case 0x81: {                                                            // NEWOBJ: a Python object
            pop();
            refuseObject(pop());
        }
        case 'b': pop(); break;  // BUILD: the state of an OrderedDict (_metadata) or tensor is not needed
        default: {
            std::ostringstream os;
            os << "unsupported pickle opcode 0x" << std::hex << int(op) << " (gruq reads state_dicts of tensors)";
            fail(os.str());
        }
        }
    }

    void pushGlobal(const std::string& module, const std::string& name) {
        Ref r = make(Kind::Global);
        r->text = module + "." + name;
        push(r);
    }

    [[noreturn]] void refuseObject(const Ref& callable) const {
        const std::string what = callable->kind == Kind::Global ? callable->text : kindName(callable->kind);
        fail("the file holds a " + what +
             " object; gruq reads tensors saved with torch.save(model.state_dict(), path) "
             "(a whole pickled model needs its Python class: save its state_dict instead)");
    }

    Ref reduce(const Ref& callable, const Ref& args) {
        if (callable->kind != Kind::Global) refuseObject(callable);
        if (args->kind != Kind::Tuple) fail("REDUCE without an argument tuple");
        const std::string& name = callable->text;
        if (name == "collections.OrderedDict") {
            if (!args->items.empty()) fail("OrderedDict built from arguments");
            Ref dict = make(Kind::Dict);
            dict->serial = dict->minSerial = ++serials_;
            return dict;
        }
        if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") return tensorFrom(args->items);
        if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
            if (args->items.empty() || args->items[0]->kind != Kind::Tensor) fail("a parameter without its tensor");
            return args->items[0];
        }
        refuseObject(callable);
    }

    // ('storage', torch.FloatStorage, key, location, numel)
    Ref storageFromPersistentId(const Ref& id) {
        const auto& f = id->items;
        if (id->kind != Kind::Tuple || f.size() != 5 || f[0]->kind != Kind::Text || f[0]->text != "storage" ||
            f[1]->kind != Kind::Global || f[2]->kind != Kind::Text || f[4]->kind != Kind::Int) {
            fail("a persistent id that is not a torch storage reference");
        }
        const std::string typeName = f[1]->text.substr(f[1]->text.rfind('.') + 1);
        if (f[1]->text.rfind("torch.", 0) != 0 || !storageTypeNamed(typeName)) fail("unsupported storage type " + f[1]->text);
        if (f[4]->integer < 0) fail("a storage with a negative size");
        Ref r = make(Kind::Storage);
        r->text = f[2]->text;
        r->storageType = typeName;
        r->storageElements = f[4]->integer;
        return r;
    }

    static bool isIntTuple(const Ref& v) {
        if (v->kind != Kind::Tuple) return false;
        for (const Ref& i : v->items)
            if (i->kind != Kind::Int) return false;
        return true;
    }

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    Ref tensorFrom(const std::vector<Ref>& a) {
        if (a.size() < 4 || a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int || !isIntTuple(a[2]) ||
            !isIntTuple(a[3]) || a[2]->items.size() != a[3]->items.size()) {
            fail("a tensor with malformed (storage, offset, size, stride) arguments");
        }
        const Value& storage = *a[0];
        const StorageType& type = *storageTypeNamed(storage.storageType);
        const size_t typeIndex = storageTypeIndex(type);
        const auto member = members_.find(folder_ + "data/" + storage.text);
        if (member == members_.end()) fail("storage " + storage.text + " is missing from the archive (data/" + storage.text + ")");
        const std::string& raw = member->second;
        const int64_t available = static_cast<int64_t>(raw.size() / static_cast<size_t>(type.bytes));
        if (storage.storageElements > available) {
            fail("storage " + storage.text + " holds " + std::to_string(raw.size()) + " bytes, fewer than its " +
                 std::to_string(storage.storageElements) + " elements need");
        }
        const size_t dims = a[2]->items.size();
        if (dims > 8) fail("a tensor of " + std::to_string(dims) + " dimensions");
        NamedTensor t;
        t.floatingPoint = type.floatingPoint;
        const int64_t offset = a[1]->integer;
        if (offset < 0 || offset > storage.storageElements) fail("a tensor offset outside its storage");
        int64_t count = 1, lastIndex = offset;
        std::vector<int64_t> stride(dims);
        for (size_t d = 0; d < dims; ++d) {
            const int64_t size = a[2]->items[d]->integer;
            stride[d] = a[3]->items[d]->integer;
            if (size < 0 || stride[d] < 0 || size > (int64_t(1) << 31) || stride[d] > (int64_t(1) << 40))
                fail("a tensor with a negative or huge size or stride");
            t.shape.push_back(size);
            count *= size;
            if (count > (int64_t(1) << 31)) fail("a tensor of more than 2^31 elements");
            int64_t span = 0;
            if (size > 0 && (__builtin_mul_overflow(size - 1, stride[d], &span) ||
                             __builtin_add_overflow(lastIndex, span, &lastIndex))) {
                fail("a tensor whose size and stride overflow");
            }
        }
        if (count > 0 && lastIndex >= storage.storageElements) fail("a tensor reaches past the end of storage " + storage.text);
        if (count > storage.storageElements) fail("a tensor with more elements than its storage " + storage.text);
        t.values.resize(static_cast<size_t>(count));
        std::vector<int64_t> index(dims, 0);
        for (int64_t n = 0; n < count; ++n) {
            int64_t at = offset;
            for (size_t d = 0; d < dims; ++d) at += index[d] * stride[d];
            t.values[static_cast<size_t>(n)] = elementAt(raw, typeIndex, at);
            for (size_t d = dims; d-- > 0;) {
                if (++index[d] < t.shape[d]) break;
                index[d] = 0;
            }
        }
        Ref r = make(Kind::Tensor);
        r->tensor = std::move(t);
        return r;
    }

    static constexpr size_t kMaxStack = 1 << 16;
    const std::string& in_;
    const std::map<std::string, std::string>& members_;
    const std::string folder_, where_;
    size_t pos_ = 0;
    std::vector<Ref> stack_;
    std::vector<size_t> marks_;
    std::map<uint64_t, Ref> memo_;
    uint64_t serials_ = 0;
};

// Tensors of a dict, depth first: state_dict keys as they are, nested dicts joined with '/'. A checkpoint
// nests a few levels; the depth and visit limits stop a dict that holds itself (the memo allows that).
void flatten(const Value& dict, const std::string& prefix, int depth, size_t& visits, NamedTensors& out,
             int64_t& elements, const std::string& where) {
    if (depth > 8) return;
    for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
        if (++visits > 1000000) return;
        const Value& key = *dict.items[i];
        const Value& value = *dict.items[i + 1];
        std::string name = key.kind == Kind::Text ? key.text : key.kind == Kind::Int ? std::to_string(key.integer) : "?";
        if (!prefix.empty()) name = prefix + "/" + name;
        if (value.kind == Kind::Tensor) {
            // One tensor may be named many times (the memo): copies are capped, not the file's size.
            elements += static_cast<int64_t>(value.tensor.values.size());
            if (elements > (int64_t(1) << 28)) throw InputError(where, "the saved dict names more than 2^28 tensor values");
            out.push_back(value.tensor);
            out.back().name = name;
        } else if (value.kind == Kind::Dict) {
            flatten(value, name, depth + 1, visits, out, elements, where);
        }
    }
}

}  // namespace

std::string NamedTensor::describe() const {
    std::string s = name + " [";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

NamedTensors readTorchSaveMembers(const std::map<std::string, std::string>& members, const std::string& where) {
    std::string pickleName;
    for (const auto& [name, bytes] : members) {
        const bool isPickle = name == "data.pkl" || (name.size() > 9 && name.compare(name.size() - 9, 9, "/data.pkl") == 0);
        if (!isPickle) continue;
        if (!pickleName.empty()) throw InputError(where, "two data.pkl members (" + pickleName + ", " + name + ")");
        pickleName = name;
    }
    if (pickleName.empty()) throw InputError(where, "a zip file without data.pkl: not a torch.save file");
    const std::string folder = pickleName.substr(0, pickleName.size() - 8);
    const Ref root = Unpickler(members.at(pickleName), members, folder, where).run();
    if (root->kind == Kind::Tensor) throw InputError(where, "the file holds a single tensor, not a state_dict");
    if (root->kind != Kind::Dict) {
        throw InputError(where, std::string("the file holds ") + kindName(root->kind) +
                                    ", not a state_dict (save it with torch.save(model.state_dict(), path))");
    }
    NamedTensors tensors;
    size_t visits = 0;
    int64_t elements = 0;
    flatten(*root, "", 0, visits, tensors, elements, where);
    if (tensors.empty()) throw InputError(where, "the saved dict holds no tensors");
    return tensors;
}

NamedTensors readTorchSaveBytes(const std::string& bytes, const std::string& where) {
    if (isLegacyTorchSave(bytes)) {
        throw InputError(where, "a torch.save file in the legacy format (before PyTorch 1.6): save it again with "
                                "torch.save(model.state_dict(), path) from PyTorch 1.6 or later");
    }
    return readTorchSaveMembers(readZipMembers(bytes, where, "PyTorch", uint64_t(4) << 30), where);
}

bool isLegacyTorchSave(const std::string& bytes) {
    // The legacy stream starts with the pickled magic number 0x1950a86a20f9469cfc6c (LONG1, 10 bytes).
    static const std::string magic("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14);
    return bytes.compare(0, magic.size(), magic) == 0;
}

}  // namespace gruq
