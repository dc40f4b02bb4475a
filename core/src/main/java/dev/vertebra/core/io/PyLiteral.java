package dev.vertebra.core.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

/**
 * The Python literals an .npy header is made of: a dict such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. Only literals are understood (strings,
 * integers, True/False/None, tuples, lists, dicts) — never anything that would need evaluating.
 */
sealed interface PyLiteral {

    record Str(String value) implements PyLiteral {
    }

    record Int(long value) implements PyLiteral {
    }

    record Bool(boolean value) implements PyLiteral {
    }

    record None() implements PyLiteral {
    }

    /** A tuple or a list: the header's shape must be a tuple, a structured dtype's descr is a list. */
    record Seq(List<PyLiteral> items, boolean tuple) implements PyLiteral {
    }

    record Dict(SequencedMap<String, PyLiteral> entries) implements PyLiteral {
    }

    int MAX_DEPTH = 32;

    /**
     * Parses the whole header text as one literal (surrounding whitespace allowed).
     *
     * @param base byte offset of the header text in the file, for error messages
     */
    static PyLiteral parse(String text, String source, long base) throws TensorFormatException {
        Parser parser = new Parser(text, source, base);
        parser.skipWhitespace();
        PyLiteral value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos != text.length()) {
            throw parser.error("unexpected '" + text.charAt(parser.pos) + "' after the header dict");
        }
        return value;
    }

    /** How a literal reads in messages: close to Python's repr. */
    static String describe(PyLiteral value) {
        return switch (value) {
            case Str s -> "'" + s.value() + "'";
            case Int i -> Long.toString(i.value());
            case Bool b -> b.value() ? "True" : "False";
            case None ignored -> "None";
            case Seq seq -> {
                StringBuilder out = new StringBuilder(seq.tuple() ? "(" : "[");
                for (int i = 0; i < seq.items().size(); i++) {
                    out.append(i > 0 ? ", " : "").append(describe(seq.items().get(i)));
                }
                yield out.append(seq.tuple() ? ")" : "]").toString();
            }
            case Dict ignored -> "a dict";
        };
    }

    final class Parser {
        private final String text;
        private final String source;
        private final long base;
        private int pos;

        Parser(String text, String source, long base) {
            this.text = text;
            this.source = source;
            this.base = base;
        }

        TensorFormatException error(String problem) {
            return new TensorFormatException(source, base + pos, "bad .npy header: " + problem);
        }

        void skipWhitespace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        private char peek() throws TensorFormatException {
            if (pos >= text.length()) {
                throw error("unexpected end of the header");
            }
            return text.charAt(pos);
        }

        PyLiteral value(int depth) throws TensorFormatException {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            char c = peek();
            if (c == '\'' || c == '"') {
                return new Str(string());
            }
            if (c == '-' || (c >= '0' && c <= '9')) {
                return integer();
            }
            if (c == '(' || c == '[') {
                return sequence(depth);
            }
            if (c == '{') {
                return dict(depth);
            }
            for (var keyword : List.of("True", "False", "None")) {
                if (text.startsWith(keyword, pos)) {
                    pos += keyword.length();
                    return switch (keyword) {
                        case "True" -> new Bool(true);
                        case "False" -> new Bool(false);
                        default -> new None();
                    };
                }
            }
            throw error("unexpected '" + c + "'");
        }

        private String string() throws TensorFormatException {
            char quote = peek();
            pos++;
            StringBuilder out = new StringBuilder();
            while (peek() != quote) {
                char c = text.charAt(pos++);
                if (c == '\\') {
                    // Header strings are dtype codes and field names: keep the escaped character as is.
                    c = peek();
                    pos++;
                }
                out.append(c);
            }
            pos++;
            return out.toString();
        }

        private Int integer() throws TensorFormatException {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) {
                pos++;
            }
            String digits = text.substring(start, pos);
            // Python 2 wrote long integers with an L suffix.
            if (pos < text.length() && text.charAt(pos) == 'L') {
                pos++;
            }
            try {
                return new Int(Long.parseLong(digits));
            } catch (NumberFormatException e) {
                pos = start;
                throw error("bad or too large integer '" + digits + "'");
            }
        }

        private PyLiteral sequence(int depth) throws TensorFormatException {
            boolean tuple = peek() == '(';
            char close = tuple ? ')' : ']';
            pos++;
            List<PyLiteral> items = new ArrayList<>();
            boolean sawComma = false;
            skipWhitespace();
            while (peek() != close) {
                items.add(value(depth + 1));
                skipWhitespace();
                if (peek() == ',') {
                    sawComma = true;
                    pos++;
                    skipWhitespace();
                } else if (peek() != close) {
                    throw error("expected ',' or '" + close + "'");
                }
            }
            pos++;
            if (tuple && items.size() == 1 && !sawComma) {
                return items.getFirst(); // "(3)" is Python's 3 in parentheses, not a tuple
            }
            return new Seq(items, tuple);
        }

        private Dict dict(int depth) throws TensorFormatException {
            pos++;
            SequencedMap<String, PyLiteral> entries = new LinkedHashMap<>();
            skipWhitespace();
            while (peek() != '}') {
                int keyPos = pos;
                if (!(value(depth + 1) instanceof Str(String key))) {
                    pos = keyPos;
                    throw error("dict keys must be strings");
                }
                skipWhitespace();
                if (peek() != ':') {
                    throw error("expected ':'");
                }
                pos++;
                skipWhitespace();
                PyLiteral value = value(depth + 1);
                if (entries.putIfAbsent(key, value) != null) {
                    pos = keyPos;
                    throw error("duplicate key '" + key + "'");
                }
                skipWhitespace();
                if (peek() == ',') {
                    pos++;
                    skipWhitespace();
                } else if (peek() != '}') {
                    throw error("expected ',' or '}'");
                }
            }
            pos++;
            return new Dict(entries);
        }
    }
}
