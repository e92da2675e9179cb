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
        /* Held until its last use: hashing or `resolve` may change the list and drop its reference. */
        Py_INCREF(key);
        int known = PyDict_Contains(entries, key);
        if (known != 0) {
            Py_DECREF(key);
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
            head = encode_head(k, text, len, target, target_count, honor, sample_len, canonical, resolve,
                               &resolved);
            release(&resolved);
        }
        int failed;
        if (head == NULL) {
            failed = PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_UnicodeError);
            if (!failed) {
                PyErr_Clear();
                failed = PyList_Append(handed_back, key) < 0;
            }
        } else {
            failed = PyDict_SetItem(entries, key, head) < 0;
            Py_DECREF(head);
        }
        Py_DECREF(key);
        if (failed) {
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

/* ---- Protobuf exposition: the common shapes of exposition/protobuf.py in C ----------------------
 *
 * exposition/protobuf.py is the reference and the fallback. pb_values() and pb_classic() read a
 * family's metrics from a given index while each is of the shape client libraries write: LabelPairs
 * first (each exactly `0a <len> name 12 <len> value`, both non-empty), then only value messages of
 * doubles (counter, gauge, untyped) or one classic histogram (count, float count, sum, buckets of
 * cumulative count, float count and bound: no exemplar, created timestamp or native field), and
 * timestamps. They stop at the first metric of any other shape, or with a string that is not valid
 * UTF-8, or an empty label value, and return its index: the Python path reads that metric (and
 * words its error, if any). A metric is taken whole or not at all, so the columns come out as the
 * Python path fills them. Every length is checked against the metric's end, every range against
 * the buffer: nothing here trusts the body. */

#define PB_MAX_LABELS 64
#define PB_MAX_BUCKETS 256

/* A varint at data[*i], bounded by end: 1 with its low 64 bits (gogo's loop: at most 10 bytes),
 * or 0 when cut short or too long. */
static inline int pb_varint(const unsigned char *data, Py_ssize_t *i, Py_ssize_t end, uint64_t *value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*i >= end) {
            return 0;
        }
        unsigned char b = data[(*i)++];
        result |= (uint64_t)(b & 0x7F) << shift;
        if (b < 0x80) {
            *value = result;
            return 1;
        }
    }
    return 0;
}

/* A length prefix at data[*i]: 1 with the payload's start in *start and *i moved past it, or 0
 * when the prefix is bad or the payload passes end. */
static inline int pb_length(const unsigned char *data, Py_ssize_t *i, Py_ssize_t end, Py_ssize_t *start) {
    uint64_t n;
    if (!pb_varint(data, i, end, &n) || n > (uint64_t)(end - *i)) {
        return 0;
    }
    *start = *i;
    *i += (Py_ssize_t)n;
    return 1;
}

/* A little-endian double, bit for bit (a stale marker's NaN payload included). */
static inline double pb_double(const unsigned char *p) {
    uint64_t bits = 0;
    for (int b = 7; b >= 0; b--) {
        bits = (bits << 8) | p[b];
    }
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

typedef struct {
    const unsigned char *name;
    Py_ssize_t name_len;
    const unsigned char *value;
    Py_ssize_t value_len;
    struct PbName *seen; /* the context's entry for the label's position */
    int legacy;
} PbLabel;

/* The label last seen at a position of the label block (the next metric usually repeats its name,
 * often its value too): the name and the (name, value) pair last built there. */
typedef struct PbName {
    const unsigned char *raw;
    Py_ssize_t len;
    PyObject *text;
    int legacy;
    const unsigned char *value;
    Py_ssize_t value_len;
    PyObject *pair;
} PbName;

/* An `le` value seen at a bucket position: its bound's bits, text and ("le", text) pair. */
typedef struct {
    uint64_t bits;
    PyObject *text;
    PyObject *pair;
    const char *utf8;
    Py_ssize_t len;
} PbBound;

/* A family's name as protobuf.py's _Name keys it: text, key up to the labels, key without labels. */
typedef struct {
    PyObject *text;
    PyObject *bare;
    const char *open;
    Py_ssize_t open_len;
} PbFamily;

typedef struct {
    const unsigned char *data;
    Py_ssize_t size;
    PyObject *keys;
    PyObject *values;
    PyObject *timestamps;
    PyObject *series;
    PbName names[PB_MAX_LABELS];
    char *joined; /* the escaped label block of the current metric */
    Py_ssize_t joined_len;
    Py_ssize_t joined_cap;
    char *key; /* the key being composed */
    Py_ssize_t key_cap;
} PbContext;

static void pb_release(PbContext *ctx) {
    for (int p = 0; p < PB_MAX_LABELS; p++) {
        Py_CLEAR(ctx->names[p].text);
        Py_CLEAR(ctx->names[p].pair);
    }
    PyMem_Free(ctx->joined);
    PyMem_Free(ctx->key);
}

/* Room for `need` bytes in *buffer (allocated even for 0: memcpy never sees NULL). */
static int pb_reserve(char **buffer, Py_ssize_t *capacity, Py_ssize_t need) {
    if (need <= *capacity && *buffer != NULL) {
        return 0;
    }
    Py_ssize_t size = need < 256 ? 256 : need * 2;
    char *grown = PyMem_Realloc(*buffer, (size_t)size);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *buffer = grown;
    *capacity = size;
    return 0;
}

static inline int pb_is_legacy(const unsigned char *name, Py_ssize_t len) {
    if (len == 0 || !is_name_start(name[0], 0)) {
        return 0;
    }
    for (Py_ssize_t i = 1; i < len; i++) {
        if (!is_name_char(name[i], 0)) {
            return 0;
        }
    }
    return 1;
}

/* render.escape on UTF-8 bytes: backslash, double quote and line feed. */
static inline char *pb_escape(char *out, const unsigned char *text, Py_ssize_t len) {
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned char c = text[i];
        if (c == '\\' || c == '"') {
            *out++ = '\\';
            *out++ = (char)c;
        } else if (c == '\n') {
            *out++ = '\\';
            *out++ = 'n';
        } else {
            *out++ = (char)c;
        }
    }
    return out;
}

/* Clear a UnicodeDecodeError (hand the metric back: 0); keep any other error (-1). */
static int pb_not_utf8(void) {
    if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

/* The metric's leading LabelPairs from *i: their count, -1 to hand the metric back, -2 on error. */
static Py_ssize_t pb_labels(PbContext *ctx, Py_ssize_t *i, Py_ssize_t end, PbLabel *labels) {
    const unsigned char *data = ctx->data;
    Py_ssize_t count = 0;
    while (*i < end && data[*i] == 0x0A) {
        Py_ssize_t k = *i + 1, pair_start, name_start, value_start;
        if (count == PB_MAX_LABELS || !pb_length(data, &k, end, &pair_start)) {
            return -1;
        }
        Py_ssize_t pair_end = k;
        k = pair_start;
        if (k >= pair_end || data[k++] != 0x0A || !pb_length(data, &k, pair_end, &name_start)) {
            return -1;
        }
        Py_ssize_t name_end = k;
        if (k >= pair_end || data[k++] != 0x12 || !pb_length(data, &k, pair_end, &value_start)) {
            return -1;
        }
        if (k != pair_end || name_end == name_start || k == value_start) {
            return -1;
        }
        PbLabel *label = &labels[count];
        label->name = data + name_start;
        label->name_len = name_end - name_start;
        label->value = data + value_start;
        label->value_len = k - value_start;
        PbName *seen = &ctx->names[count];
        if (seen->text == NULL || seen->len != label->name_len ||
            memcmp(seen->raw, label->name, (size_t)label->name_len) != 0) {
            PyObject *text = PyUnicode_DecodeUTF8((const char *)label->name, label->name_len, NULL);
            if (text == NULL) {
                return pb_not_utf8() == 0 ? -1 : -2;
            }
            Py_XSETREF(seen->text, text);
            Py_CLEAR(seen->pair);
            seen->raw = label->name;
            seen->len = label->name_len;
            seen->legacy = pb_is_legacy(label->name, label->name_len);
        }
        label->seen = seen;
        label->legacy = seen->legacy;
        *i = pair_end;
        count++;
    }
    return count;
}

/* The key fragments `a="x",b="y"` of the labels into ctx->joined (names outside the legacy set
 * quoted): 0, or -1 on error. */
static int pb_join(PbContext *ctx, const PbLabel *labels, Py_ssize_t count) {
    Py_ssize_t need = 0;
    for (Py_ssize_t l = 0; l < count; l++) {
        need += 2 * labels[l].name_len + 2 * labels[l].value_len + 6;
    }
    if (pb_reserve(&ctx->joined, &ctx->joined_cap, need) < 0) {
        return -1;
    }
    char *out = ctx->joined;
    for (Py_ssize_t l = 0; l < count; l++) {
        const PbLabel *label = &labels[l];
        if (l > 0) {
            *out++ = ',';
        }
        if (label->legacy) {
            memcpy(out, label->name, (size_t)label->name_len);
            out += label->name_len;
        } else {
            *out++ = '"';
            out = pb_escape(out, label->name, label->name_len);
            *out++ = '"';
        }
        *out++ = '=';
        *out++ = '"';
        out = pb_escape(out, label->value, label->value_len);
        *out++ = '"';
    }
    ctx->joined_len = out - ctx->joined;
    return 0;
}

/* open + joined [+ `,`] + middle + tail + close as a str; NULL with UnicodeDecodeError set when
 * the label bytes are not valid UTF-8 (the other parts are). */
static PyObject *pb_key(PbContext *ctx, const PbFamily *family, int comma, const char *middle, const char *tail,
                        Py_ssize_t tail_len, const char *close) {
    Py_ssize_t middle_len = (Py_ssize_t)strlen(middle), close_len = (Py_ssize_t)strlen(close);
    Py_ssize_t len = family->open_len + ctx->joined_len + 1 + middle_len + tail_len + close_len;
    if (pb_reserve(&ctx->key, &ctx->key_cap, len) < 0) {
        return NULL;
    }
    char *out = ctx->key;
    memcpy(out, family->open, (size_t)family->open_len);
    out += family->open_len;
    memcpy(out, ctx->joined, (size_t)ctx->joined_len);
    out += ctx->joined_len;
    if (comma) {
        *out++ = ',';
    }
    memcpy(out, middle, (size_t)middle_len);
    out += middle_len;
    memcpy(out, tail, (size_t)tail_len);
    out += tail_len;
    memcpy(out, close, (size_t)close_len);
    out += close_len;
    return PyUnicode_DecodeUTF8(ctx->key, out - ctx->key, NULL);
}

/* A tuple that can hold only str and such tuples is never in a reference cycle: untracked at
 * once, as the collector would untrack it on its first pass, so that a body's many series entries
 * do not make every collection meanwhile walk them. */
static inline PyObject *pb_untracked(PyObject *tuple) {
    if (tuple != NULL && PyObject_GC_IsTracked(tuple)) {
        PyObject_GC_UnTrack(tuple);
    }
    return tuple;
}

/* The label pairs of a new series as a tuple, `extra` (a pair) appended when not NULL; a pair
 * equal to the one last built at its position is that one. */
static PyObject *pb_pairs(const PbLabel *labels, Py_ssize_t count, PyObject *extra) {
    PyObject *pairs = PyTuple_New(count + (extra != NULL));
    if (pairs == NULL) {
        return NULL;
    }
    for (Py_ssize_t l = 0; l < count; l++) {
        const PbLabel *label = &labels[l];
        PbName *seen = label->seen;
        if (seen->pair == NULL || seen->value_len != label->value_len ||
            memcmp(seen->value, label->value, (size_t)label->value_len) != 0) {
            PyObject *value = PyUnicode_DecodeUTF8((const char *)label->value, label->value_len, NULL);
            PyObject *pair = value == NULL ? NULL : pb_untracked(PyTuple_Pack(2, seen->text, value));
            Py_XDECREF(value);
            if (pair == NULL) {
                Py_DECREF(pairs);
                return NULL;
            }
            Py_XSETREF(seen->pair, pair);
            seen->value = label->value;
            seen->value_len = label->value_len;
        }
        PyTuple_SET_ITEM(pairs, l, Py_NewRef(seen->pair));
    }
    if (extra != NULL) {
        PyTuple_SET_ITEM(pairs, count, Py_NewRef(extra));
    }
    return pb_untracked(pairs);
}

/* One sample into the columns; its series entry (text, pairs) when the key is new. The pairs are
 * `*shared` (built on first need) plus `extra` when given. 0, or -1 on error. */
static int pb_sample(PbContext *ctx, PyObject *key, double value, PyObject *timestamp, PyObject *text,
                     const PbLabel *labels, Py_ssize_t count, PyObject **shared, PyObject *extra) {
    PyObject *number = PyFloat_FromDouble(value);
    if (number == NULL) {
        return -1;
    }
    int failed = PyList_Append(ctx->keys, key) < 0 || PyList_Append(ctx->values, number) < 0 ||
                 PyList_Append(ctx->timestamps, timestamp) < 0;
    Py_DECREF(number);
    if (failed) {
        return -1;
    }
    int known = PyDict_Contains(ctx->series, key);
    if (known != 0) {
        return known < 0 ? -1 : 0;
    }
    PyObject *pairs;
    if (extra == NULL) {
        if (*shared == NULL && (*shared = pb_pairs(labels, count, NULL)) == NULL) {
            return -1;
        }
        pairs = Py_NewRef(*shared);
    } else if (*shared != NULL) {
        pairs = PyTuple_New(count + 1);
        if (pairs == NULL) {
            return -1;
        }
        for (Py_ssize_t l = 0; l < count; l++) {
            PyTuple_SET_ITEM(pairs, l, Py_NewRef(PyTuple_GET_ITEM(*shared, l)));
        }
        PyTuple_SET_ITEM(pairs, count, Py_NewRef(extra));
        pb_untracked(pairs);
    } else if ((pairs = pb_pairs(labels, count, extra)) == NULL) {
        return -1;
    }
    PyObject *entry = pb_untracked(PyTuple_Pack(2, text, pairs));
    Py_DECREF(pairs);
    if (entry == NULL) {
        return -1;
    }
    int stored = PyDict_SetItem(ctx->series, key, entry);
    Py_DECREF(entry);
    return stored;
}

/* The (start, end) of ranges[k], checked against the buffer: 0, or -1 with an exception. */
static int pb_range(PyObject *ranges, Py_ssize_t k, Py_ssize_t size, Py_ssize_t *start, Py_ssize_t *end) {
    PyObject *item = PyList_GET_ITEM(ranges, k);
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
        PyErr_SetString(PyExc_TypeError, "ranges must hold (start, end) tuples");
        return -1;
    }
    *start = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
    if (*start == -1 && PyErr_Occurred()) {
        return -1;
    }
    *end = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
    if (*end == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (*start < 0 || *start > *end || *end > size) {
        PyErr_SetString(PyExc_ValueError, "range outside the data");
        return -1;
    }
    return 0;
}

/* A family name tuple (text, open, bare) of str: 0, or -1 with an exception. */
static int pb_family(PyObject *name, PbFamily *family) {
    if (!PyTuple_Check(name) || PyTuple_GET_SIZE(name) != 3 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(name, 0)) ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(name, 1)) || !PyUnicode_CheckExact(PyTuple_GET_ITEM(name, 2))) {
        PyErr_SetString(PyExc_TypeError, "a family name is a (text, open, bare) tuple of str");
        return -1;
    }
    family->text = PyTuple_GET_ITEM(name, 0);
    family->open = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(name, 1), &family->open_len);
    family->bare = PyTuple_GET_ITEM(name, 2);
    return family->open == NULL ? -1 : 0;
}

/* A metric's timestamp field (tag already read) at *i: 1 with the int (None for 0) in *timestamp
 * (replacing the one held), 0 to hand back, -1 on error. */
static int pb_timestamp(const unsigned char *data, Py_ssize_t *i, Py_ssize_t end, PyObject **timestamp) {
    uint64_t raw;
    if (!pb_varint(data, i, end, &raw)) {
        return 0;
    }
    PyObject *value = raw == 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong((long long)(int64_t)raw);
    if (value == NULL) {
        return -1;
    }
    Py_SETREF(*timestamp, value);
    return 1;
}

/* The common setup: argument checks and the context. 0, or -1 with an exception. */
static int pb_context(PbContext *ctx, PyObject *data, PyObject *ranges, Py_ssize_t index, PyObject *keys,
                      PyObject *values, PyObject *timestamps, PyObject *series) {
    memset(ctx, 0, sizeof *ctx);
    if (index < 0 || index > PyList_GET_SIZE(ranges)) {
        PyErr_SetString(PyExc_IndexError, "index outside ranges");
        return -1;
    }
    ctx->data = (const unsigned char *)PyBytes_AS_STRING(data);
    ctx->size = PyBytes_GET_SIZE(data);
    ctx->keys = keys;
    ctx->values = values;
    ctx->timestamps = timestamps;
    ctx->series = series;
    return 0;
}

static PyObject *pb_values(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *data, *ranges, *name, *keys, *values, *timestamps, *series;
    Py_ssize_t index;
    int tag;
    if (!PyArg_ParseTuple(args, "O!O!nOiO!O!O!O!:pb_values", &PyBytes_Type, &data, &PyList_Type, &ranges, &index,
                          &name, &tag, &PyList_Type, &keys, &PyList_Type, &values, &PyList_Type, &timestamps,
                          &PyDict_Type, &series)) {
        return NULL;
    }
    if (tag != 0x12 && tag != 0x1A && tag != 0x2A) {
        PyErr_SetString(PyExc_ValueError, "tag must be 0x12, 0x1a or 0x2a");
        return NULL;
    }
    PbFamily family;
    PbContext ctx;
    if (pb_family(name, &family) < 0 || pb_context(&ctx, data, ranges, index, keys, values, timestamps, series) < 0) {
        return NULL;
    }
    const unsigned char *bytes = ctx.data;
    PbLabel labels[PB_MAX_LABELS];
    Py_ssize_t k = index;
    int failed = 0;
    for (; k < PyList_GET_SIZE(ranges); k++) {
        Py_ssize_t i, end;
        if (pb_range(ranges, k, ctx.size, &i, &end) < 0) {
            failed = 1;
            break;
        }
        Py_ssize_t count = pb_labels(&ctx, &i, end, labels);
        if (count < 0) {
            failed = count == -2;
            break;
        }
        double value = 0.0, other = 0.0;
        PyObject *timestamp = Py_NewRef(Py_None);
        int taken = 1;
        while (taken > 0 && i < end) {
            unsigned char field = bytes[i++];
            Py_ssize_t start;
            if (field == 0x30) {
                taken = pb_timestamp(bytes, &i, end, &timestamp);
            } else if ((field == 0x12 || field == 0x1A || field == 0x2A) && pb_length(bytes, &i, end, &start)) {
                double *into = field == tag ? &value : &other;
                for (; start < i && taken; start += 9) {
                    taken = bytes[start] == 0x09 && i - start >= 9;
                    if (taken) {
                        *into = pb_double(bytes + start + 1);
                    }
                }
            } else {
                taken = 0;
            }
        }
        PyObject *key = NULL;
        if (taken > 0) {
            if (count == 0) {
                key = Py_NewRef(family.bare);
            } else if (pb_join(&ctx, labels, count) < 0) {
                taken = -1;
            } else if ((key = pb_key(&ctx, &family, 0, "", "", 0, "}")) == NULL) {
                taken = pb_not_utf8();
            }
        }
        if (taken > 0) {
            PyObject *pairs = NULL;
            taken = pb_sample(&ctx, key, value, timestamp, family.text, labels, count, &pairs, NULL) < 0 ? -1 : 1;
            Py_XDECREF(pairs);
        }
        Py_XDECREF(key);
        Py_DECREF(timestamp);
        if (taken <= 0) {
            failed = taken < 0;
            break;
        }
    }
    pb_release(&ctx);
    return failed ? NULL : PyLong_FromSsize_t(k);
}

typedef struct {
    uint64_t count;
    double count_float;
    double sum;
    Py_ssize_t buckets;
    double bound[PB_MAX_BUCKETS];
    double value[PB_MAX_BUCKETS];
} PbHistogram;

/* A Histogram message [i, end) merged into *h (buckets appended, scalars replaced): 1 when it holds
 * only count, float count, sum and buckets of cumulative count, float count and bound, else 0. */
static int pb_histogram(const unsigned char *data, Py_ssize_t i, Py_ssize_t end, PbHistogram *h) {
    while (i < end) {
        unsigned char field = data[i++];
        Py_ssize_t b;
        if (field == 0x08) {
            if (!pb_varint(data, &i, end, &h->count)) {
                return 0;
            }
        } else if (field == 0x11 || field == 0x21) {
            if (end - i < 8) {
                return 0;
            }
            *(field == 0x11 ? &h->sum : &h->count_float) = pb_double(data + i);
            i += 8;
        } else if (field == 0x1A && h->buckets < PB_MAX_BUCKETS && pb_length(data, &i, end, &b)) {
            uint64_t cumulative = 0;
            double bound = 0.0, cumulative_float = 0.0;
            while (b < i) {
                unsigned char sub = data[b++];
                if (sub == 0x08) {
                    if (!pb_varint(data, &b, i, &cumulative)) {
                        return 0;
                    }
                } else if ((sub == 0x11 || sub == 0x21) && i - b >= 8) {
                    *(sub == 0x11 ? &bound : &cumulative_float) = pb_double(data + b);
                    b += 8;
                } else {
                    return 0;
                }
            }
            h->bound[h->buckets] = bound;
            h->value[h->buckets++] = cumulative_float != 0.0 ? cumulative_float : (double)cumulative;
        } else {
            return 0;
        }
    }
    return 1;
}

/* The `le` text of the bucket at `position` through bounds[position] (the previous metric's
 * bucket there usually has the same bound): 0, or -1 with an exception. */
static int pb_bound(PbBound *bounds, Py_ssize_t position, double value, PyObject *bound, PyObject *le) {
    PbBound *seen = &bounds[position];
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    if (seen->text != NULL && seen->bits == bits) {
        return 0;
    }
    PyObject *number = PyFloat_FromDouble(value);
    if (number == NULL) {
        return -1;
    }
    PyObject *text = PyObject_CallOneArg(bound, number);
    Py_DECREF(number);
    if (text == NULL) {
        return -1;
    }
    Py_ssize_t len;
    const char *utf8 = PyUnicode_CheckExact(text) ? PyUnicode_AsUTF8AndSize(text, &len) : NULL;
    PyObject *pair = utf8 == NULL ? NULL : pb_untracked(PyTuple_Pack(2, le, text));
    if (pair == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "bound must return a str");
        }
        Py_DECREF(text);
        return -1;
    }
    Py_XSETREF(seen->text, text);
    Py_XSETREF(seen->pair, pair);
    seen->bits = bits;
    seen->utf8 = utf8;
    seen->len = len;
    return 0;
}

/* One classic histogram metric's samples: _count, _sum, then _bucket up to and including the first
 * +Inf one (+Inf valued like _count added when absent). 1 done, 0 hand back, -1 error. */
static int pb_classic_samples(PbContext *ctx, const PbFamily *families, const PbLabel *labels, Py_ssize_t count,
                              const PbHistogram *h, PyObject *timestamp, PbBound *bounds, PyObject *bound,
                              PyObject *le, PyObject *inf_pair) {
    Py_ssize_t last = 0;
    while (last < h->buckets && h->bound[last] != HUGE_VAL) {
        last++;
    }
    Py_ssize_t shown = last < h->buckets ? last + 1 : last;
    for (Py_ssize_t b = 0; b < shown; b++) {
        if (pb_bound(bounds, b, h->bound[b], bound, le) < 0) {
            return -1;
        }
    }
    if (pb_join(ctx, labels, count) < 0) { /* the buckets' keys need it, even empty */
        return -1;
    }
    PyObject *key = count == 0 ? Py_NewRef(families[0].bare) : pb_key(ctx, &families[0], 0, "", "", 0, "}");
    if (key == NULL) {
        return pb_not_utf8();
    }
    double total = h->count_float != 0.0 ? h->count_float : (double)h->count;
    PyObject *pairs = NULL;
    int failed = pb_sample(ctx, key, total, timestamp, families[0].text, labels, count, &pairs, NULL) < 0;
    Py_DECREF(key);
    key = failed                 ? NULL
          : count == 0           ? Py_NewRef(families[1].bare)
                                 : pb_key(ctx, &families[1], 0, "", "", 0, "}");
    failed = key == NULL || pb_sample(ctx, key, h->sum, timestamp, families[1].text, labels, count, &pairs, NULL) < 0;
    Py_XDECREF(key);
    Py_ssize_t samples = shown == last ? shown + 1 : shown; /* no +Inf bucket: one added */
    for (Py_ssize_t b = 0; !failed && b < samples; b++) {
        int given = b < shown;
        key = pb_key(ctx, &families[2], count > 0, "le=\"", given ? bounds[b].utf8 : "+Inf",
                     given ? bounds[b].len : 4, "\"}");
        failed = key == NULL || pb_sample(ctx, key, given ? h->value[b] : total, timestamp, families[2].text,
                                          labels, count, &pairs, given ? bounds[b].pair : inf_pair) < 0;
        Py_XDECREF(key);
    }
    Py_XDECREF(pairs);
    return failed ? -1 : 1;
}

static PyObject *pb_classic(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *data, *ranges, *names, *keys, *values, *timestamps, *series, *bound;
    Py_ssize_t index;
    if (!PyArg_ParseTuple(args, "O!O!nO!O!O!O!O!O:pb_classic", &PyBytes_Type, &data, &PyList_Type, &ranges, &index,
                          &PyTuple_Type, &names, &PyList_Type, &keys, &PyList_Type, &values, &PyList_Type,
                          &timestamps, &PyDict_Type, &series, &bound)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(names) != 3) {
        PyErr_SetString(PyExc_TypeError, "names must be the (count, sum, bucket) family names");
        return NULL;
    }
    if (!PyCallable_Check(bound)) {
        PyErr_SetString(PyExc_TypeError, "bound must be callable");
        return NULL;
    }
    PbFamily families[3];
    for (int f = 0; f < 3; f++) {
        if (pb_family(PyTuple_GET_ITEM(names, f), &families[f]) < 0) {
            return NULL;
        }
    }
    PbContext ctx;
    if (pb_context(&ctx, data, ranges, index, keys, values, timestamps, series) < 0) {
        return NULL;
    }
    PyObject *le = PyUnicode_FromString("le");
    PyObject *inf = PyUnicode_FromString("+Inf");
    PyObject *inf_pair = le == NULL || inf == NULL ? NULL : pb_untracked(PyTuple_Pack(2, le, inf));
    Py_XDECREF(inf);
    PbBound *bounds = PyMem_Calloc(PB_MAX_BUCKETS, sizeof *bounds);
    PbHistogram *h = PyMem_Malloc(sizeof *h);
    PbLabel labels[PB_MAX_LABELS];
    const unsigned char *bytes = ctx.data;
    Py_ssize_t k = index;
    int failed = inf_pair == NULL || bounds == NULL || h == NULL;
    if (failed && !PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    for (; !failed && k < PyList_GET_SIZE(ranges); k++) {
        Py_ssize_t i, end;
        if (pb_range(ranges, k, ctx.size, &i, &end) < 0) {
            failed = 1;
            break;
        }
        Py_ssize_t count = pb_labels(&ctx, &i, end, labels);
        if (count < 0) {
            failed = count == -2;
            break;
        }
        h->count = 0;
        h->count_float = h->sum = 0.0;
        h->buckets = 0;
        PyObject *timestamp = Py_NewRef(Py_None);
        int taken = 1;
        while (taken > 0 && i < end) {
            unsigned char field = bytes[i++];
            Py_ssize_t start;
            if (field == 0x30) {
                taken = pb_timestamp(bytes, &i, end, &timestamp);
            } else {
                taken = field == 0x3A && pb_length(bytes, &i, end, &start) && pb_histogram(bytes, start, i, h);
            }
        }
        if (taken > 0) {
            taken = pb_classic_samples(&ctx, families, labels, count, h, timestamp, bounds, bound, le, inf_pair);
        }
        Py_DECREF(timestamp);
        if (taken <= 0) {
            failed = taken < 0;
            break;
        }
    }
    if (bounds != NULL) {
        for (Py_ssize_t b = 0; b < PB_MAX_BUCKETS; b++) {
            Py_XDECREF(bounds[b].text);
            Py_XDECREF(bounds[b].pair);
        }
    }
    PyMem_Free(bounds);
    PyMem_Free(h);
    Py_XDECREF(inf_pair);
    Py_XDECREF(le);
    pb_release(&ctx);
    return failed ? NULL : PyLong_FromSsize_t(k);
}

static PyObject *pb_fields(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *data, *out;
    Py_ssize_t i, end;
    int tag;
    if (!PyArg_ParseTuple(args, "O!nniO!:pb_fields", &PyBytes_Type, &data, &i, &end, &tag, &PyList_Type, &out)) {
        return NULL;
    }
    if (i < 0 || i > end || end > PyBytes_GET_SIZE(data) || tag < 0 || tag > 0x7F || (tag & 7) != 2) {
        PyErr_SetString(PyExc_ValueError, "pb_fields needs 0 <= i <= end <= len(data) and a one-byte length-delimited tag");
        return NULL;
    }
    const unsigned char *bytes = (const unsigned char *)PyBytes_AS_STRING(data);
    while (i < end && bytes[i] == tag) {
        Py_ssize_t next = i + 1, start;
        if (!pb_length(bytes, &next, end, &start)) {
            break;
        }
        PyObject *range = Py_BuildValue("(nn)", start, next);
        if (range == NULL || PyList_Append(out, range) < 0) {
            Py_XDECREF(range);
            return NULL;
        }
        Py_DECREF(range);
        i = next;
    }
    return PyLong_FromSsize_t(i);
}

/* ---- Series entries: `Exposition.series` of canonical keys in C ----------------------------------
 *
 * exposition/fast.py's Series.__getitem__ (make_series of the key's name and label pairs) is the
 * reference and the fallback. series_entries() stores out[key] = (name, ((label, value), ...)) for
 * every key of the canonical form (parse_key) without an empty label value, and returns the others
 * in order for the per-key path (empty values drop labels, and the rest is rare). The strings of a
 * body repeat (metric names, label names, most (label, value) pairs): each is built once a call and
 * the pair tuples are shared, found again as the one last used at the same position of a key, else
 * by their bytes in a hash table. An `le` label under a histogram and a `quantile` under a summary
 * (types[key], the TYPE in force at the key's first line; types None: no key is under either) take
 * normalize(value), called once per distinct value. Every tuple built holds only str and such
 * tuples, so it is untracked by the collector at once (pb_untracked): 100k new entries would
 * otherwise make each collection walk them. The table and the positions point into the keys' UTF-8
 * text: a copy of the list holds the keys for the call, so a callback that empties the list frees
 * nothing in use. */

typedef struct {
    uint64_t hash; /* tag in the low two bits, bit 2 set: 0 marks an empty slot */
    const char *name;
    const char *value;
    int32_t name_len;
    int32_t value_len;
    PyObject *object;
} SeSlot;

enum { SE_METRIC, SE_LABEL, SE_PAIR, SE_SCALED };

/* A position of the keys (0: the metric name, l: the l-th label): what was used there last, and how
 * often the table had what it looked up for it. A position whose values hardly repeat (pod, id)
 * builds its pairs directly for the next SE_DIRECT keys, then looks again: there a lookup mostly
 * misses a cold slot and grows the table for nothing. */
#define SE_WINDOW 256
#define SE_FEW_HITS 16
#define SE_DIRECT 4096

typedef struct {
    const char *name;
    const char *value;
    Py_ssize_t name_len;
    Py_ssize_t value_len;
    int tag;
    PyObject *object; /* owned */
    uint32_t tries;
    uint32_t hits;
    uint32_t direct;
} SePosition;

typedef struct {
    SeSlot *slots;
    size_t mask;
    size_t used;
    PyObject *types;
    PyObject *normalize;
    SePosition positions[MAX_LABELS];
} SeContext;

static inline uint64_t se_mix(uint64_t hash, const char *text, Py_ssize_t len) {
    const uint64_t prime = 0x9E3779B97F4A7C15ULL;
    Py_ssize_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, text + i, sizeof word);
        hash = (hash ^ word) * prime;
        hash ^= hash >> 29;
    }
    uint64_t tail = (uint64_t)len;
    for (; i < len; i++) {
        tail = (tail << 8) | (unsigned char)text[i];
    }
    hash = (hash ^ tail) * prime;
    return hash ^ (hash >> 32);
}

static inline uint64_t se_hash(int tag, const char *name, Py_ssize_t name_len, const char *value,
                               Py_ssize_t value_len) {
    uint64_t hash = se_mix(0xCBF29CE484222325ULL, name, name_len);
    if (value_len > 0) {
        hash = se_mix(hash, value, value_len);
    }
    return (hash & ~(uint64_t)7) | 4 | (uint64_t)tag;
}

/* The object stored for these bytes (borrowed), or NULL. */
static PyObject *se_find(const SeContext *ctx, uint64_t hash, const char *name, Py_ssize_t name_len,
                         const char *value, Py_ssize_t value_len) {
    for (size_t i = (size_t)hash & ctx->mask;; i = (i + 1) & ctx->mask) {
        const SeSlot *slot = &ctx->slots[i];
        if (slot->hash == 0) {
            return NULL;
        }
        if (slot->hash == hash && slot->name_len == name_len && slot->value_len == value_len &&
            memcmp(slot->name, name, (size_t)name_len) == 0 && memcmp(slot->value, value, (size_t)value_len) == 0) {
            return slot->object;
        }
    }
}

/* Store `object` (a new reference the table takes) for bytes se_find did not find: 0, or -1 (the
 * reference released) when the table cannot grow. Kept at most half full. */
static int se_insert(SeContext *ctx, uint64_t hash, const char *name, Py_ssize_t name_len, const char *value,
                     Py_ssize_t value_len, PyObject *object) {
    if ((ctx->used + 1) * 2 > ctx->mask + 1) {
        size_t size = (ctx->mask + 1) * 2;
        SeSlot *grown = size > PY_SSIZE_T_MAX / sizeof(SeSlot) ? NULL : PyMem_Calloc(size, sizeof(SeSlot));
        if (grown == NULL) {
            Py_DECREF(object);
            PyErr_NoMemory();
            return -1;
        }
        for (size_t i = 0; i <= ctx->mask; i++) {
            if (ctx->slots[i].hash != 0) {
                size_t j = (size_t)ctx->slots[i].hash & (size - 1);
                while (grown[j].hash != 0) {
                    j = (j + 1) & (size - 1);
                }
                grown[j] = ctx->slots[i];
            }
        }
        PyMem_Free(ctx->slots);
        ctx->slots = grown;
        ctx->mask = size - 1;
    }
    size_t i = (size_t)hash & ctx->mask;
    while (ctx->slots[i].hash != 0) {
        i = (i + 1) & ctx->mask;
    }
    ctx->slots[i] = (SeSlot){hash, name, value, (int32_t)name_len, (int32_t)value_len, object};
    ctx->used++;
    return 0;
}

static void se_release(SeContext *ctx) {
    if (ctx->slots != NULL) {
        for (size_t i = 0; i <= ctx->mask; i++) {
            if (ctx->slots[i].hash != 0) {
                Py_DECREF(ctx->slots[i].object);
            }
        }
        PyMem_Free(ctx->slots);
        ctx->slots = NULL;
    }
    for (int p = 0; p < MAX_LABELS; p++) {
        Py_CLEAR(ctx->positions[p].object);
    }
}

/* The str of a label name, borrowed from the table; NULL on error. */
static PyObject *se_label_name(SeContext *ctx, const char *text, Py_ssize_t len) {
    uint64_t hash = se_hash(SE_LABEL, text, len, "", 0);
    PyObject *name = se_find(ctx, hash, text, len, "", 0);
    if (name != NULL) {
        return name;
    }
    name = PyUnicode_DecodeUTF8(text, len, NULL);
    if (name == NULL || se_insert(ctx, hash, text, len, "", 0, name) < 0) {
        return NULL;
    }
    return name;
}

/* A new object for the bytes: the metric name's str (SE_METRIC), the (label, value) pair of a label
 * (SE_PAIR), or of an `le`/`quantile` label with its value normalised (SE_SCALED); NULL on error. */
static PyObject *se_build(SeContext *ctx, int tag, const char *name, Py_ssize_t name_len, const char *value,
                          Py_ssize_t value_len) {
    if (tag == SE_METRIC) {
        return PyUnicode_DecodeUTF8(name, name_len, NULL);
    }
    PyObject *label = se_label_name(ctx, name, name_len);
    if (label == NULL) {
        return NULL;
    }
    PyObject *text = PyUnicode_DecodeUTF8(value, value_len, NULL);
    if (text != NULL && tag == SE_SCALED) {
        Py_INCREF(label); /* the callback may run anything: hold what is used after it */
        PyObject *normal = PyObject_CallOneArg(ctx->normalize, text);
        Py_DECREF(text);
        text = normal;
        if (text != NULL && !PyUnicode_CheckExact(text)) {
            PyErr_Format(PyExc_TypeError, "normalize must return str, not %.100s", Py_TYPE(text)->tp_name);
            Py_CLEAR(text);
        }
        PyObject *pair = text == NULL ? NULL : pb_untracked(PyTuple_Pack(2, label, text));
        Py_DECREF(label);
        Py_XDECREF(text);
        return pair;
    }
    PyObject *pair = text == NULL ? NULL : pb_untracked(PyTuple_Pack(2, label, text));
    Py_XDECREF(text);
    return pair;
}

/* The object for the bytes at a position (see se_build), shared with every other use of the same
 * bytes and tag but for pairs built directly; a new reference, NULL on error. */
static PyObject *se_object(SeContext *ctx, Py_ssize_t position, int tag, const char *name, Py_ssize_t name_len,
                           const char *value, Py_ssize_t value_len) {
    SePosition *seen = &ctx->positions[position];
    if (seen->object != NULL && seen->tag == tag && seen->name_len == name_len && seen->value_len == value_len &&
        memcmp(seen->value, value, (size_t)value_len) == 0 && memcmp(seen->name, name, (size_t)name_len) == 0) {
        return Py_NewRef(seen->object);
    }
    PyObject *object;
    if (tag == SE_PAIR && seen->direct > 0) {
        seen->direct--;
        object = se_build(ctx, tag, name, name_len, value, value_len);
    } else {
        uint64_t hash = se_hash(tag, name, name_len, value, value_len);
        object = se_find(ctx, hash, name, name_len, value, value_len);
        seen->hits += object != NULL;
        if (++seen->tries == SE_WINDOW) {
            seen->direct = seen->hits < SE_FEW_HITS ? SE_DIRECT : 0;
            seen->tries = seen->hits = 0;
        }
        if (object != NULL) {
            Py_INCREF(object);
        } else {
            object = se_build(ctx, tag, name, name_len, value, value_len);
            if (object == NULL || se_insert(ctx, hash, name, name_len, value, value_len, Py_NewRef(object)) < 0) {
                Py_XDECREF(object);
                return NULL;
            }
        }
    }
    if (object != NULL) {
        Py_XSETREF(seen->object, Py_NewRef(object));
        seen->tag = tag;
        seen->name = name;
        seen->name_len = name_len;
        seen->value = value;
        seen->value_len = value_len;
    }
    return object;
}

/* Which label types[key] normalises: 0 none, 1 `le` (histogram), 2 `quantile` (summary); -1 on error. */
static int se_scaled(const SeContext *ctx, PyObject *key) {
    if (ctx->types == Py_None) {
        return 0;
    }
    PyObject *kind = PyDict_GetItemWithError(ctx->types, key);
    if (kind == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyUnicode_Check(kind)) {
        return 0;
    }
    if (PyUnicode_CompareWithASCIIString(kind, "histogram") == 0) {
        return 1;
    }
    return PyUnicode_CompareWithASCIIString(kind, "summary") == 0 ? 2 : 0;
}

/* The entry of one key (new reference); NULL without an error set to hand the key back. */
static PyObject *se_entry(SeContext *ctx, PyObject *key) {
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(key, &len);
    if (text == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeError)) {
            PyErr_Clear();
        }
        return NULL;
    }
    Label labels[MAX_LABELS];
    Py_ssize_t count = len > INT32_MAX ? -1 : parse_key(text, len, labels);
    if (count < 0) {
        return NULL;
    }
    PyObject *name = se_object(ctx, 0, SE_METRIC, labels[0].value, labels[0].value_len, "", 0);
    PyObject *pairs = name == NULL ? NULL : PyTuple_New(count - 1);
    int scaled = -1;
    for (Py_ssize_t l = 1; pairs != NULL && l < count; l++) {
        const Label *label = &labels[l];
        int tag = SE_PAIR;
        int le = name_is(label, "le", 2);
        if (le || name_is(label, "quantile", 8)) {
            if (scaled < 0 && (scaled = se_scaled(ctx, key)) < 0) {
                Py_CLEAR(pairs);
                break;
            }
            if (scaled == (le ? 1 : 2)) {
                tag = SE_SCALED;
            }
        }
        PyObject *pair = se_object(ctx, l, tag, label->name, label->name_len, label->value, label->value_len);
        if (pair == NULL) {
            Py_CLEAR(pairs);
            break;
        }
        PyTuple_SET_ITEM(pairs, l - 1, pair);
    }
    PyObject *entry = pairs == NULL ? NULL : pb_untracked(PyTuple_Pack(2, name, pb_untracked(pairs)));
    Py_XDECREF(pairs);
    Py_XDECREF(name);
    return entry;
}

static PyObject *series_entries(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *keys, *out, *types, *normalize;
    if (!PyArg_ParseTuple(args, "O!O!OO:series_entries", &PyList_Type, &keys, &PyDict_Type, &out, &types,
                          &normalize)) {
        return NULL;
    }
    if (types != Py_None && !PyDict_Check(types)) {
        PyErr_SetString(PyExc_TypeError, "types must be a dict or None");
        return NULL;
    }
    if (!PyCallable_Check(normalize)) {
        PyErr_SetString(PyExc_TypeError, "normalize must be callable");
        return NULL;
    }
    PyObject *held = PyList_GetSlice(keys, 0, PyList_GET_SIZE(keys));
    PyObject *handed_back = PyList_New(0);
    SeContext ctx = {.slots = PyMem_Calloc(1024, sizeof(SeSlot)), .mask = 1023, .types = types,
                     .normalize = normalize};
    if (held == NULL || handed_back == NULL || ctx.slots == NULL) {
        if (ctx.slots == NULL) {
            PyErr_NoMemory();
        }
        goto fail;
    }
    Py_INCREF(types);
    Py_INCREF(normalize);
    int failed = 0;
    for (Py_ssize_t k = 0; !failed && k < PyList_GET_SIZE(held); k++) {
        PyObject *key = PyList_GET_ITEM(held, k);
        PyObject *entry = PyUnicode_CheckExact(key) ? se_entry(&ctx, key) : NULL;
        if (entry != NULL) {
            failed = PyDict_SetItem(out, key, entry) < 0;
            Py_DECREF(entry);
        } else {
            failed = PyErr_Occurred() != NULL || PyList_Append(handed_back, key) < 0;
        }
    }
    Py_DECREF(types);
    Py_DECREF(normalize);
    if (!failed) {
        se_release(&ctx);
        Py_DECREF(held);
        return handed_back;
    }
fail:
    se_release(&ctx);
    Py_XDECREF(held);
    Py_XDECREF(handed_back);
    return NULL;
}

static PyMethodDef methods[] = {
    {"pb_fields", pb_fields, METH_VARARGS,
     "pb_fields(data, i, end, tag, out) -> index after the run\n\n"
     "Append (start, end) of each length-delimited field with the one-byte tag from data[i] on, up to\n"
     "the first other tag or length that does not fit before end (left for the Python decoder)."},
    {"pb_values", pb_values, METH_VARARGS,
     "pb_values(data, ranges, index, name, tag, keys, values, timestamps, series) -> index handed back\n\n"
     "Fill the columns with the counter, gauge or untyped metrics ranges[index:] of the common shape\n"
     "(exposition/protobuf.py is the reference); stop at the first other one. name: (text, open, bare)\n"
     "of the family name; tag: the value field's tag byte of the family's type."},
    {"pb_classic", pb_classic, METH_VARARGS,
     "pb_classic(data, ranges, index, names, keys, values, timestamps, series, bound) -> index handed back\n\n"
     "Fill the columns with the classic histogram metrics ranges[index:] of the common shape; stop at\n"
     "the first other one. names: (text, open, bare) of _count, _sum, _bucket; bound(float) -> le text."},
    {"fill_heads", fill_heads, METH_VARARGS,
     "fill_heads(keys, entries, target, honor, sample_len, canonical, resolve) -> keys handed back\n\n"
     "Store the remote-write head of every canonical key not yet in entries; return the others, in\n"
     "order (each occurrence), for the general path. target: the target labels as (name, value)\n"
     "bytes pairs; canonical: le and quantile values encoded as they are; resolve(position, name,\n"
     "value): the value to encode for any other, at the key's first position in keys."},
    {"series_entries", series_entries, METH_VARARGS,
     "series_entries(keys, out, types, normalize) -> keys handed back\n\n"
     "Store out[key] = (name, ((label, value), ...)) for every canonical key without an empty label\n"
     "value (exposition/fast.py's Series is the reference); return the others, in order. types: key ->\n"
     "TYPE in force (None: none is histogram or summary); normalize(value): the canonical `le` value\n"
     "under a histogram and `quantile` value under a summary."},
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
