/* The byte-DFA walk of langid.py's feature extractor, compiled (dedup.core.language).
 *
 * py3langid walks its model's DFA over a text's UTF-8 bytes in Python, ~1 us a byte: ~0.35 ms
 * of an article's 300-character sample, the largest single cost of an ingest's fingerprint.
 * This is the same loop in C. `counts` answers what py3langid's `visit_counts` builds before
 * its Counter: a dict of feature index -> how many times the walk emitted it, in the order
 * each feature was first emitted (so that scoring sums in the same order), or None when
 * none was. `dedup.core.language.visit_counts` is the pure-Python twin; a test runs both
 * on the real corpora and requires equal dicts in equal order.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *counts(PyObject *self, PyObject *args) {
    Py_buffer nextmove, rowbase, output, text;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &nextmove, &rowbase, &output, &text)) return NULL;
    PyObject *found = NULL;
    if (nextmove.itemsize != 4 || rowbase.itemsize != 8 || output.itemsize != 8) {
        PyErr_SetString(PyExc_TypeError, "counts(): nextmove must hold uint32, rowbase and output int64");
        goto done;
    }
    const uint32_t *move = (const uint32_t *)nextmove.buf;
    const int64_t *row = (const int64_t *)rowbase.buf;
    const int64_t *out = (const int64_t *)output.buf;
    const unsigned char *bytes = (const unsigned char *)text.buf;
    Py_ssize_t moves = nextmove.len / 4, states = rowbase.len / 8;
    if (output.len / 8 != states) {
        PyErr_SetString(PyExc_ValueError, "counts(): rowbase and output differ in length");
        goto done;
    }
    found = PyDict_New();
    if (found == NULL) goto done;
    int64_t state = 0;
    for (Py_ssize_t i = 0; i < text.len; i++) {
        int64_t at = row[state] + bytes[i];
        if (at < 0 || at >= moves) {
            PyErr_SetString(PyExc_ValueError, "counts(): the model's DFA left its table");
            Py_CLEAR(found);
            goto done;
        }
        state = move[at];
        if (state >= states) {
            PyErr_SetString(PyExc_ValueError, "counts(): the model's DFA named no state");
            Py_CLEAR(found);
            goto done;
        }
        int64_t feature = out[state];
        if (feature < 0) continue;
        PyObject *key = PyLong_FromLongLong(feature);
        if (key == NULL) { Py_CLEAR(found); goto done; }
        PyObject *seen = PyDict_GetItemWithError(found, key);
        long long n = 1;
        if (seen != NULL) n = PyLong_AsLongLong(seen) + 1;
        else if (PyErr_Occurred()) { Py_DECREF(key); Py_CLEAR(found); goto done; }
        PyObject *value = PyLong_FromLongLong(n);
        int failed = value == NULL || PyDict_SetItem(found, key, value) < 0;
        Py_XDECREF(value);
        Py_DECREF(key);
        if (failed) { Py_CLEAR(found); goto done; }
    }
    if (PyDict_GET_SIZE(found) == 0) {
        Py_DECREF(found);
        found = Py_NewRef(Py_None);
    }
done:
    PyBuffer_Release(&nextmove);
    PyBuffer_Release(&rowbase);
    PyBuffer_Release(&output);
    PyBuffer_Release(&text);
    return found;
}

static PyMethodDef methods[] = {
    {"counts", counts, METH_VARARGS,
     "counts(nextmove, rowbase, output, text) -> dict | None: the DFA walk's feature counts."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_dfa", NULL, -1, methods};

PyMODINIT_FUNC PyInit__dfa(void) { return PyModule_Create(&module); }
