#include "core/formats/pickle_reader.h"

#include <cstring>
#include <map>
#include <set>

#include "core/error.h"
#include "core/formats/limits.h"

namespace r18 {
namespace {

constexpr size_t kMaxStack = 1u << 20;
constexpr size_t kMaxMarks = 1u << 16;
constexpr size_t kMaxMemo = limits::kMaxPickleObjects;

const std::map<std::string, std::string>& storageTypes() {
    static const std::map<std::string, std::string> types = {
        {"torch.FloatStorage", "float32"}, {"torch.DoubleStorage", "float64"},
        {"torch.HalfStorage", "float16"},  {"torch.BFloat16Storage", "bfloat16"},
        {"torch.LongStorage", "int64"},    {"torch.IntStorage", "int32"},
        {"torch.ShortStorage", "int16"},   {"torch.CharStorage", "int8"},
        {"torch.ByteStorage", "uint8"},    {"torch.BoolStorage", "bool"},
    };
    return types;
}

const std::set<std::string>& callableGlobals() {
    static const std::set<std::string> names = {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        // TorchScript's typed containers for module attributes (kernel sizes, strides): each
        // returns its list argument as it is.
        "torch.jit._pickle.build_intlist",
        "torch.jit._pickle.build_floatlist",
        "torch.jit._pickle.build_boollist",
        "torch.jit._pickle.build_tensorlist",
        "torch.jit._pickle.restore_type_tag",
    };
    return names;
}

// A TorchScript module class (its code lives in the archive's code/ folder and is never read).
bool isTorchScriptClass(const std::string& name) {
    return name.rfind("__torch__.", 0) == 0 && name.find('\n') == std::string::npos;
}

class Unpickler {
public:
    Unpickler(const uint8_t* data, size_t size, const std::string& label)
        : m_p(data), m_end(data + size), m_begin(data), m_label(label) {}

    PyRef run(size_t* consumed);
    std::vector<std::unique_ptr<PyObject>> takeArena() { return std::move(m_arena); }

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw WeightsError(m_label + ": " + problem);
    }
    const uint8_t* take(size_t n) {
        if (static_cast<size_t>(m_end - m_p) < n)
            fail("the pickle ends in the middle of an instruction (truncated or corrupt file).");
        const uint8_t* at = m_p;
        m_p += n;
        return at;
    }
    uint64_t takeLe(size_t n) {
        const uint8_t* b = take(n);
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
        return v;
    }
    std::string takeLine() {
        const uint8_t* nl =
            static_cast<const uint8_t*>(std::memchr(m_p, '\n', static_cast<size_t>(m_end - m_p)));
        if (!nl) fail("the pickle ends inside a GLOBAL name (truncated or corrupt file).");
        std::string s(reinterpret_cast<const char*>(m_p), static_cast<size_t>(nl - m_p));
        m_p = nl + 1;
        return s;
    }
    std::string takeString(uint64_t n) {
        if (n > static_cast<uint64_t>(m_end - m_p))
            fail("a string in the pickle runs past the end of the data (truncated file).");
        const uint8_t* b = take(static_cast<size_t>(n));
        return {reinterpret_cast<const char*>(b), static_cast<size_t>(n)};
    }
    void mark() {
        if (m_marks.size() >= kMaxMarks) fail("the pickle nests deeper than any state dict's.");
        m_marks.push_back(m_stack.size());
    }
    // Every reference an object takes to another counts against one budget, so that a few
    // bytes of opcodes (DUP, APPEND) cannot grow a list without bound.
    void addItem(PyObject& to, PyRef item) {
        if (++m_references > limits::kMaxPickleReferences)
            fail("the pickle builds more references between objects than any state dict's (" +
                 std::to_string(limits::kMaxPickleReferences) + ").");
        to.items.push_back(item);
    }
    void push(PyRef o) {
        if (m_stack.size() >= kMaxStack) fail("the pickle's stack grows beyond any state dict's.");
        m_stack.push_back(std::move(o));
    }
    PyRef pop() {
        if (m_stack.size() <= base()) fail("the pickle pops from an empty stack (corrupt).");
        PyRef o = std::move(m_stack.back());
        m_stack.pop_back();
        return o;
    }
    PyRef& top() {
        if (m_stack.size() <= base()) fail("the pickle reads an empty stack (corrupt).");
        return m_stack.back();
    }
    size_t base() const { return m_marks.empty() ? 0 : m_marks.back(); }
    std::vector<PyRef> popToMark() {
        if (m_marks.empty()) fail("the pickle closes a MARK it never opened (corrupt).");
        const size_t mark = m_marks.back();
        m_marks.pop_back();
        std::vector<PyRef> items(m_stack.begin() + static_cast<std::ptrdiff_t>(mark),
                                 m_stack.end());
        m_stack.resize(mark);
        return items;
    }
    void memoPut(uint64_t key) {
        if (m_memo.size() >= kMaxMemo && !m_memo.count(key))
            fail("the pickle's memo grows beyond any state dict's.");
        m_memo[key] = top();
    }
    PyRef memoGet(uint64_t key) {
        auto it = m_memo.find(key);
        if (it == m_memo.end())
            fail("the pickle refers to memo entry " + std::to_string(key) +
                 " that does not exist (corrupt).");
        return it->second;
    }
    PyRef global(const std::string& module, const std::string& name);
    PyRef persistentLoad(const PyRef& pid);
    PyRef reduce(const PyRef& callable, const PyRef& args);
    void setItems(PyRef& dict, const std::vector<PyRef>& kv);
    static int64_t asInt(const PyRef& o, bool* ok);
    std::vector<int64_t> intTuple(const PyRef& o, const char* what);

    PyRef make(PyObject::Type t) {
        if (m_arena.size() >= limits::kMaxPickleObjects)
            fail("the pickle creates more than " + std::to_string(limits::kMaxPickleObjects) +
                 " objects; a ResNet state dict needs a few thousand.");
        m_arena.push_back(std::make_unique<PyObject>());
        m_arena.back()->type = t;
        return m_arena.back().get();
    }

    std::vector<std::unique_ptr<PyObject>> m_arena;
    const uint8_t* m_p;
    const uint8_t* m_end;
    const uint8_t* m_begin;
    const std::string& m_label;
    std::vector<PyRef> m_stack;
    std::vector<size_t> m_marks;
    std::map<uint64_t, PyRef> m_memo;
    uint64_t m_references = 0;
};

PyRef Unpickler::global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (!callableGlobals().count(full) && !storageTypes().count(full) && !isTorchScriptClass(full))
        fail("refusing to load: the pickle names the global '" + full +
             "', which a state dict never needs (allowed: OrderedDict, torch tensors, "
             "storages and TorchScript module classes). Nothing from the file was executed.");
    PyRef g = make(PyObject::Type::Global);
    g->s = full;
    return g;
}

int64_t Unpickler::asInt(const PyRef& o, bool* ok) {
    *ok = o && (o->type == PyObject::Type::Int || o->type == PyObject::Type::Bool);
    return *ok ? o->i : 0;
}

std::vector<int64_t> Unpickler::intTuple(const PyRef& o, const char* what) {
    if (!o || o->type != PyObject::Type::Tuple)
        fail(std::string("a tensor's ") + what + " is not a tuple.");
    std::vector<int64_t> v;
    for (const PyRef& item : o->items) {
        bool ok = false;
        const int64_t x = asInt(item, &ok);
        if (!ok || x < 0 || x > (int64_t{1} << 40))
            fail(std::string("a tensor's ") + what + " holds an invalid value.");
        v.push_back(x);
    }
    return v;
}

PyRef Unpickler::persistentLoad(const PyRef& pid) {
    // ('storage', <storage type>, key, location, numel[, view_metadata])
    if (!pid || pid->type != PyObject::Type::Tuple || pid->items.size() < 5 ||
        pid->items[0]->type != PyObject::Type::String || pid->items[0]->s != "storage")
        fail("the pickle holds a persistent reference that is not a tensor storage.");
    const PyRef& type = pid->items[1];
    const PyRef& key = pid->items[2];
    bool ok = false;
    const int64_t numel = asInt(pid->items[4], &ok);
    if (type->type != PyObject::Type::Global || !storageTypes().count(type->s) ||
        key->type != PyObject::Type::String || !ok || numel < 0)
        fail("the pickle holds a malformed storage reference.");
    if (pid->items.size() > 5 && pid->items[5]->type != PyObject::Type::None)
        fail("storage '" + key->s +
             "' is a view of another storage (pre-1.0 format); re-save the file with a current "
             "PyTorch.");
    PyRef s = make(PyObject::Type::Storage);
    s->storageKey = key->s;
    s->dtype = storageTypes().at(type->s);
    s->storageNumel = numel;
    return s;
}

PyRef Unpickler::reduce(const PyRef& callable, const PyRef& args) {
    if (callable->type != PyObject::Type::Global || !callableGlobals().count(callable->s))
        fail("refusing to load: the pickle calls something that is not an allowed constructor.");
    if (args->type != PyObject::Type::Tuple)
        fail("the pickle calls '" + callable->s + "' without an argument tuple.");
    const auto& a = args->items;
    if (callable->s == "collections.OrderedDict") {
        if (!a.empty())
            fail("the pickle builds an OrderedDict with arguments, which a state dict never does.");
        return make(PyObject::Type::Dict);
    }
    if (callable->s.rfind("torch.jit._pickle.", 0) == 0) {
        if (a.empty() || (a[0]->type != PyObject::Type::List && a[0]->type != PyObject::Type::Dict))
            fail("the pickle calls '" + callable->s + "' on something that is not a list or dict.");
        return a[0];
    }
    if (callable->s == "torch._utils._rebuild_parameter") {
        if (a.empty() || a[0]->type != PyObject::Type::Tensor)
            fail("a parameter does not wrap a tensor.");
        return a[0];
    }
    // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, ...)
    if (a.size() < 4 || a[0]->type != PyObject::Type::Storage)
        fail("a tensor in the pickle is malformed (no storage).");
    PyRef t = make(PyObject::Type::Tensor);
    t->storage = a[0];
    bool ok = false;
    t->offset = asInt(a[1], &ok);
    if (!ok || t->offset < 0) fail("a tensor in the pickle has an invalid storage offset.");
    t->sizes = intTuple(a[2], "size");
    t->strides = intTuple(a[3], "stride");
    if (t->sizes.size() != t->strides.size())
        fail("a tensor in the pickle has mismatched size and stride.");
    return t;
}

void Unpickler::setItems(PyRef& dict, const std::vector<PyRef>& kv) {
    if (!dict || dict->type != PyObject::Type::Dict)
        fail("the pickle sets items on something that is not a dict.");
    if (kv.size() % 2) fail("the pickle sets a dict key without a value.");
    for (size_t i = 0; i < kv.size(); i += 2) {
        addItem(*dict, kv[i]);
        addItem(*dict, kv[i + 1]);
    }
}

PyRef Unpickler::run(size_t* consumed) {
    using T = PyObject::Type;
    for (;;) {
        const uint8_t op = *take(1);
        switch (op) {
            case 0x80: take(1); break;  // PROTO
            case 0x95: take(8); break;  // FRAME
            case '(': mark(); break;
            case '.': {  // STOP
                PyRef result = pop();
                if (consumed) *consumed = static_cast<size_t>(m_p - m_begin);
                return result;
            }
            case 'N': push(make(T::None)); break;
            case 0x88:
            case 0x89: {
                PyRef b = make(T::Bool);
                b->i = op == 0x88;
                push(b);
                break;
            }
            case 'J': {
                PyRef v = make(T::Int);
                v->i = static_cast<int32_t>(takeLe(4));
                push(v);
                break;
            }
            case 'K':
            case 'M': {
                PyRef v = make(T::Int);
                v->i = static_cast<int64_t>(takeLe(op == 'K' ? 1 : 2));
                push(v);
                break;
            }
            case 0x8a: {  // LONG1
                const size_t n = *take(1);
                const uint8_t* b = take(n);
                if (n <= 8) {
                    PyRef v = make(T::Int);
                    uint64_t u = 0;
                    for (size_t i = 0; i < n; ++i) u |= static_cast<uint64_t>(b[i]) << (8 * i);
                    if (n > 0 && n < 8 && (b[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);
                    v->i = static_cast<int64_t>(u);
                    push(v);
                } else {
                    PyRef v = make(T::BigInt);
                    v->s.assign(reinterpret_cast<const char*>(b), n);
                    push(v);
                }
                break;
            }
            case 'G': {  // BINFLOAT, big-endian
                const uint8_t* b = take(8);
                uint64_t u = 0;
                for (int i = 0; i < 8; ++i) u = (u << 8) | b[i];
                PyRef v = make(T::Float);
                std::memcpy(&v->f, &u, sizeof u);
                push(v);
                break;
            }
            case 'X':
            case 0x8c:
            case 0x8d:
            case 'T':
            case 'U':
            case 'B':
            case 'C': {  // (BIN)UNICODE / (SHORT_)BINSTRING / (SHORT_)BINBYTES
                const size_t width =
                    (op == 0x8c || op == 'U' || op == 'C') ? 1 : (op == 0x8d ? 8 : 4);
                PyRef v = make(T::String);
                v->s = takeString(takeLe(width));
                push(v);
                break;
            }
            case '}': push(make(T::Dict)); break;
            case ']': push(make(T::List)); break;
            case ')': push(make(T::Tuple)); break;
            case 't': {
                PyRef v = make(T::Tuple);
                for (PyRef item : popToMark()) addItem(*v, item);
                push(v);
                break;
            }
            case 0x85:
            case 0x86:
            case 0x87: {
                PyRef v = make(T::Tuple);
                const size_t n = static_cast<size_t>(op - 0x84);
                std::vector<PyRef> items(n);
                for (size_t i = n; i-- > 0;) items[i] = pop();
                for (PyRef item : items) addItem(*v, item);
                push(v);
                break;
            }
            case 'q': memoPut(takeLe(1)); break;
            case 'r': memoPut(takeLe(4)); break;
            case 0x94: memoPut(m_memo.size()); break;
            case 'h': push(memoGet(takeLe(1))); break;
            case 'j': push(memoGet(takeLe(4))); break;
            case 'c': {
                const std::string module = takeLine();
                const std::string name = takeLine();
                push(global(module, name));
                break;
            }
            case 0x93: {  // STACK_GLOBAL
                PyRef name = pop();
                PyRef module = pop();
                if (module->type != T::String || name->type != T::String)
                    fail("the pickle's STACK_GLOBAL names are not strings (corrupt).");
                push(global(module->s, name->s));
                break;
            }
            case 'Q': {
                PyRef pid = pop();
                push(persistentLoad(pid));
                break;
            }
            case 'R': {
                PyRef args = pop();
                PyRef callable = pop();
                push(reduce(callable, args));
                break;
            }
            case 's': {
                PyRef value = pop();
                PyRef key = pop();
                setItems(top(), {key, value});
                break;
            }
            case 'u': {
                std::vector<PyRef> kv = popToMark();
                setItems(top(), kv);
                break;
            }
            case 'a': {
                PyRef value = pop();
                if (top()->type != T::List)
                    fail("the pickle appends to something that is not a list.");
                addItem(*top(), value);
                break;
            }
            case 'e': {
                std::vector<PyRef> values = popToMark();
                if (top()->type != T::List)
                    fail("the pickle appends to something that is not a list.");
                for (PyRef v : values) addItem(*top(), v);
                break;
            }
            case 0x81: {  // NEWOBJ: only a TorchScript module, made as an inert Object
                PyRef args = pop();
                PyRef cls = pop();
                if (cls->type != T::Global || !isTorchScriptClass(cls->s))
                    fail("refusing to load: the pickle creates an instance of '" + cls->s +
                         "', which is not a TorchScript module. Nothing from the file was "
                         "executed.");
                if (args->type != T::Tuple || !args->items.empty())
                    fail("the pickle creates TorchScript module '" + cls->s +
                         "' with arguments, which TorchScript never does.");
                PyRef o = make(T::Object);
                o->s = cls->s;
                push(o);
                break;
            }
            case 'b': {  // BUILD: state on a dict (_metadata) or a tensor is ignored
                PyRef state = pop();
                if (top()->type == T::Object) {  // a TorchScript module's attributes
                    if (state->type != T::Dict || !top()->items.empty())
                        fail("the pickle sets the state of TorchScript module '" + top()->s +
                             "' to something other than one dict of attributes.");
                    for (PyRef item : state->items) addItem(*top(), item);
                    break;
                }
                if (top()->type != T::Dict && top()->type != T::Tensor)
                    fail("the pickle sets state on an object that is not a dict or tensor.");
                break;
            }
            case '0': pop(); break;        // POP
            case '2': push(top()); break;  // DUP
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op);
                fail(std::string("the pickle uses opcode ") + hex + " at byte " +
                     std::to_string(m_p - m_begin - 1) +
                     ", which a state dict never needs; refusing to load.");
            }
        }
    }
}

}  // namespace

const PyRef* PyObject::dictGet(const std::string& key) const {
    for (size_t k = 0; k + 1 < items.size(); k += 2)
        if (items[k]->type == Type::String && items[k]->s == key) return &items[k + 1];
    return nullptr;
}

int dtypeSize(const std::string& dtype) {
    if (dtype == "float64" || dtype == "int64") return 8;
    if (dtype == "float32" || dtype == "int32") return 4;
    if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16") return 2;
    if (dtype == "int8" || dtype == "uint8" || dtype == "bool") return 1;
    return 0;
}

Unpickled unpickle(const uint8_t* data, size_t size, const std::string& label, size_t* consumed) {
    Unpickler u(data, size, label);
    Unpickled result;
    result.root = u.run(consumed);
    result.arena = u.takeArena();
    return result;
}

}  // namespace r18
