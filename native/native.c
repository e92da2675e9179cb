/*
 * promscrape._native: the first-scrape hot path in C, where Python costs ~3 us a series.
 *
 * canonical_keys() proves the fast text parser's keys canonical (exposition/fast.py's _check_keys
 * is the reference). fill_heads() turns the keys of new series (Prometheus text,
 * `name{a="x",b="y"}` as written) straight into the pre-encoded remote-write heads the pipeline caches: the labels merged with
 * the target's, sorted by name, encoded as prometheus.WriteRequest timeseries entries. It handles
 * only the canonical, unambiguous case and hands every other key back to the Python general path
 * (pipeline._Labeler.head), which is the reference: tests check both give the same bytes.
 *
 * Handed back: anything not `name`, `name{}` or `name{l="v",...[,]}` with legacy names, values
 * holding a backslash, line feed or quote, an empty value, `__name__` or a repeated label name,
 * a target label the series also has under honor_labels=false (exported_ renaming), a target
 * label with an empty value, more than MAX_LABELS labels. An `le` or `quantile` value not in
 * `canonical` (values whose Prometheus-canonical form is themselves, whatever the family's type)
 * is passed to `resolve(position, label_name, value)`, which returns the value to encode
 * (canonical form under the histogram or summary TYPE in force at that line). Keys are taken in
 * exposition order, duplicates included: a key already in `entries` is skipped, so a series is
 * encoded at its first line, as Prometheus's scrape cache does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_LABELS 64

typedef struct {
    const char *name;
    Py_ssize_t name_len;
    const char *value;
    Py_ssize_t value_len;
} Label;

static inline int is_name_start(unsigned char c, int colon) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static inline int is_name_char(unsigned char c, int colon) {
    return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

static inline Py_ssize_t varint_size(Py_ssize_t n) {
    Py_ssize_t size = 1;
    while (n >= 0x80) {
        n >>= 7;
        size++;
    }
    return size;
}

static inline char *put_varint(char *out, Py_ssize_t n) {
    while (n >= 0x80) {
        *out++ = (char)((n & 0x7F) | 0x80);
        n >>= 7;
    }
    *out++ = (char)n;
    return out;
}

static inline int compare_names(const Label *a, const Label *b) {
    Py_ssize_t shorter = a->name_len < b->name_len ? a->name_len : b->name_len;
    int order = memcmp(a->name, b->name, (size_t)shorter);
    if (order != 0) {
        return order;
    }
    return (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static inline int name_is(const Label *label, const char *text, Py_ssize_t len) {
    return label->name_len == len && memcmp(label->name, text, (size_t)len) == 0;
}

/* Parse a canonical key: `name`, `name{}` or `name{l="v",...[,]}`, legacy names, values without `"`,
 * backslash or line feed. With `labels`, fill labels[0] (`__name__`) and the scraped labels (at most
 * MAX_LABELS, none empty) and return their count; without, only check (empty values allowed, no
 * limit). -1: not canonical (or, with `labels`, not covered). */
static Py_ssize_t parse_key(const char *text, Py_ssize_t len, Label *labels) {
    Py_ssize_t i = 0;
    if (len == 0 || !is_name_start((unsigned char)text[0], 1)) {
        return -1;
    }
    while (i < len && is_name_char((unsigned char)text[i], 1)) {
        i++;
    }
    Py_ssize_t count = 1;
    if (labels != NULL) {
        labels[0].name = "__name__";
        labels[0].name_len = 8;
        labels[0].value = text;
        labels[0].value_len = i;
    }
    if (i == len) {
        return count;
    }
    if (text[i] != '{') {
        return -1;
    }
    i++;
    while (i < len && text[i] != '}') {
        if ((labels != NULL && count == MAX_LABELS) || !is_name_start((unsigned char)text[i], 0)) {
            return -1;
        }
        Py_ssize_t name_start = i;
        while (i < len && is_name_char((unsigned char)text[i], 0)) {
            i++;
        }
        if (len - i < 2 || text[i] != '=' || text[i + 1] != '"') {
            return -1;
        }
        Py_ssize_t name_end = i;
        i += 2;
        Py_ssize_t value_start = i;
        while (i < len && text[i] != '"') {
            if (text[i] == '\\' || text[i] == '\n') {
                return -1;
            }
            i++;
        }
        if (i == len || (labels != NULL && i == value_start)) {
            return -1;
        }
        if (labels != NULL) {
            Label *label = &labels[count];
            label->name = text + name_start;
            label->name_len = name_end - name_start;
            label->value = text + value_start;
            label->value_len = i - value_start;
        }
        count++;
        i++;
        if (i < len && text[i] == ',') {
            i++;
        } else if (i < len && text[i] != '}') {
            return -1;
        }
    }
    if (i != len - 1) {
        return -1;
    }
    return count;
}

#define MAX_RESOLVED 4

/* Values encoded in place of scraped ones: references held until the head is built. */
typedef struct {
    PyObject *held[MAX_RESOLVED];
    int count;
} Resolved;

static void release(Resolved *resolved) {
    for (int i = 0; i < resolved->count; i++) {
        Py_DECREF(resolved->held[i]);
    }
    resolved->count = 0;
}

/* Point an `le`/`quantile` label at the value to encode: 1 done, 0 hand back, -1 error. */
static int resolve_value(Py_ssize_t position, Label *label, PyObject *canonical, PyObject *resolve,
                         Resolved *resolved) {
    PyObject *value = PyUnicode_DecodeUTF8(label->value, label->value_len, NULL);
    if (value == NULL) {
        return -1;
    }
    int found = PySet_Contains(canonical, value);
    if (found != 0) {
        Py_DECREF(value);
        return found;
    }
    if (resolved->count == MAX_RESOLVED) {
        Py_DECREF(value);
        return 0;
    }
    PyObject *name = PyUnicode_FromStringAndSize(label->name, label->name_len);
    if (name == NULL) {
        Py_DECREF(value);
        return -1;
    }
    PyObject *index = PyLong_FromSsize_t(position);
    if (index == NULL) {
        Py_DECREF(name);
        Py_DECREF(value);
        return -1;
    }
    PyObject *replacement = PyObject_CallFunctionObjArgs(resolve, index, name, value, NULL);
    Py_DECREF(index);
    Py_DECREF(name);
    Py_DECREF(value);
    if (replacement == NULL) {
        return -1;
    }
    Py_ssize_t len;
    const char *text = PyUnicode_Check(replacement) ? PyUnicode_AsUTF8AndSize(replacement, &len) : NULL;
    if (text == NULL) {
        Py_DECREF(replacement);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "resolve must return a str");
        }
        return -1;
    }
    if (len == 0) {
        Py_DECREF(replacement);
        return 0;
    }
    resolved->held[resolved->count++] = replacement;
    label->value = text;
    label->value_len = len;
    return 1;
}

/* Sort by name (insertion sort: a few labels); 0 when two share a name. */
static int sort_unique(Label *labels, Py_ssize_t count) {
    for (Py_ssize_t i = 1; i < count; i++) {
        Label moving = labels[i];
        Py_ssize_t j = i;
        while (j > 0) {
            int order = compare_names(&labels[j - 1], &moving);
            if (order == 0) {
                return 0;
            }
            if (order < 0) {
                break;
            }
            labels[j] = labels[j - 1];
            j--;
        }
        labels[j] = moving;
    }
    return 1;
}

static Py_ssize_t entry_size(const Label *label) {
    Py_ssize_t body = 1 + varint_size(label->name_len) + label->name_len + 1 + varint_size(label->value_len) +
                      label->value_len;
    return 1 + varint_size(body) + body;
}

static char *put_entry(char *out, const Label *label) {
    Py_ssize_t body = 1 + varint_size(label->name_len) + label->name_len + 1 + varint_size(label->value_len) +
                      label->value_len;
    *out++ = 0x0A;
    out = put_varint(out, body);
    *out++ = 0x0A;
    out = put_varint(out, label->name_len);
    memcpy(out, label->name, (size_t)label->name_len);
    out += label->name_len;
    *out++ = 0x12;
    out = put_varint(out, label->value_len);
    memcpy(out, label->value, (size_t)label->value_len);
    return out + label->value_len;
}

/* The head of one series: WriteRequest field 1 tag and length, the labels, the sample's tag,
 * length and double tag. NULL with no exception set: hand the key back. */
static PyObject *encode_head(Py_ssize_t position, const char *text, Py_ssize_t len, const Label *target,
                             Py_ssize_t target_count, int honor, Py_ssize_t sample_len, PyObject *canonical,
                             PyObject *resolve, Resolved *resolved) {
    Label labels[MAX_LABELS + MAX_LABELS];
    Py_ssize_t count = parse_key(text, len, labels);
    if (count < 0) {
        return NULL;
    }
    Py_ssize_t scraped = count;
    for (Py_ssize_t i = 1; i < scraped; i++) {
        if (name_is(&labels[i], "__name__", 8)) {
            return NULL;
        }
        if (name_is(&labels[i], "le", 2) || name_is(&labels[i], "quantile", 8)) {
            if (resolve_value(position, &labels[i], canonical, resolve, resolved) <= 0) {
                return NULL;
            }
        }
    }
    for (Py_ssize_t t = 0; t < target_count; t++) {
        int present = 0;
        for (Py_ssize_t i = 1; i < scraped; i++) {
            if (compare_names(&labels[i], &target[t]) == 0) {
                present = 1;
                break;
            }
        }
        if (present) {
            if (!honor) {
                return NULL;
            }
            continue;
        }
        labels[count++] = target[t];
    }
    if (!sort_unique(labels, count)) {
        return NULL;
    }
    Py_ssize_t block = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        block += entry_size(&labels[i]);
    }
    Py_ssize_t series_len = block + 2 + sample_len;
    PyObject *head = PyBytes_FromStringAndSize(NULL, 1 + varint_size(series_len) + block + 3);
    if (head == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(head);
    *out++ = 0x0A;
    out = put_varint(out, series_len);
    for (Py_ssize_t i = 0; i < count; i++) {
        out = put_entry(out, &labels[i]);
    }
    *out++ = 0x12;
    *out++ = (char)sample_len;
    *out = 0x09;
    return head;
}

static PyObject *fill_heads(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *keys, *entries, *target_pairs, *canonical, *resolve;
    int honor;
    Py_ssize_t sample_len;
    if (!PyArg_ParseTuple(args, "O!O!O!pnO!O:fill_heads", &PyList_Type, &keys, &PyDict_Type, &entries,
                          &PyTuple_Type, &target_pairs, &honor, &sample_len, &PySet_Type, &canonical, &resolve)) {
        return NULL;
    }
    if (!PyCallable_Check(resolve)) {
        PyErr_SetString(PyExc_TypeError, "resolve must be callable");
        return NULL;
    }
    if (sample_len < 9 || sample_len > 127) {
        PyErr_SetString(PyExc_ValueError, "sample_len must be within 9..127");
        return NULL;
    }
    Py_ssize_t target_count = PyTuple_GET_SIZE(target_pairs);
    if (target_count > MAX_LABELS) {
        return PySequence_List(keys);
    }
    Label target[MAX_LABELS];
    for (Py_ssize_t t = 0; t < target_count; t++) {
        PyObject *pair = PyTuple_GET_ITEM(target_pairs, t);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyBytes_Check(PyTuple_GET_ITEM(pair, 0)) ||
            !PyBytes_Check(PyTuple_GET_ITEM(pair, 1))) {
            PyErr_SetString(PyExc_TypeError, "target labels must be (bytes, bytes) pairs");
            return NULL;
        }
        PyObject *name = PyTuple_GET_ITEM(pair, 0);
        PyObject *value = PyTuple_GET_ITEM(pair, 1);
        target[t].name = PyBytes_AS_STRING(name);
        target[t].name_len = PyBytes_GET_SIZE(name);
        target[t].value = PyBytes_AS_STRING(value);
        target[t].value_len = PyBytes_GET_SIZE(value);
        if (target[t].value_len == 0) {
            return PySequence_List(keys);
        }
    }
    PyObject *handed_back = PyList_New(0);
    if (handed_back == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(keys); k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        int known = PyDict_Contains(entries, key);
        if (known != 0) {
            if (known < 0) {
                Py_DECREF(handed_back);
                return NULL;
            }
            continue;
        }
        Py_ssize_t len;
        const char *text = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &len) : NULL;
        PyObject *head = NULL;
        if (text != NULL) {
            Resolved resolved = {.count = 0};
            Py_INCREF(key);
            head = encode_head(k, text, len, target, target_count, honor, sample_len, canonical, resolve,
                               &resolved);
            release(&resolved);
            Py_DECREF(key);
        }
        if (head == NULL) {
            if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_UnicodeError)) {
                Py_DECREF(handed_back);
                return NULL;
            }
            PyErr_Clear();
            if (PyList_Append(handed_back, key) < 0) {
                Py_DECREF(handed_back);
                return NULL;
            }
            continue;
        }
        int stored = PyDict_SetItem(entries, key, head);
        Py_DECREF(head);
        if (stored < 0) {
            Py_DECREF(handed_back);
            return NULL;
        }
    }
    return handed_back;
}

static PyObject *canonical_keys(PyObject *Py_UNUSED(module), PyObject *keys) {
    if (!PyList_Check(keys)) {
        PyErr_SetString(PyExc_TypeError, "canonical_keys expects a list of str");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(keys); k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        if (!PyUnicode_Check(key)) {
            Py_RETURN_FALSE;
        }
        Py_ssize_t len;
        const char *text = PyUnicode_AsUTF8AndSize(key, &len);
        if (text == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeError)) {
                return NULL;
            }
            PyErr_Clear();
            Py_RETURN_FALSE;
        }
        if (parse_key(text, len, NULL) < 0) {
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"fill_heads", fill_heads, METH_VARARGS,
     "fill_heads(keys, entries, target, honor, sample_len, canonical, resolve) -> keys handed back\n\n"
     "Store the remote-write head of every canonical key not yet in entries; return the others, in\n"
     "order (each occurrence), for the general path. target: the target labels as (name, value)\n"
     "bytes pairs; canonical: le and quantile values encoded as they are; resolve(position, name,\n"
     "value): the value to encode for any other, at the key's first position in keys."},
    {"canonical_keys", canonical_keys, METH_O,
     "canonical_keys(keys) -> bool\n\n"
     "Whether every key is `name`, `name{}` or `name{l=\"v\",...[,]}` with legacy names and values\n"
     "free of quote, backslash and line feed (the fast text parser's canonical form)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "promscrape._native", "The first-scrape hot path in C (see native/native.c).", 0,
    methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    return PyModuleDef_Init(&module);
}
