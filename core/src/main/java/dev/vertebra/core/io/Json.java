package dev.vertebra.core.io;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

/**
 * The small, strict JSON a safetensors header needs: objects (ordered, no duplicate keys), arrays, strings and
 * integers. Fractions, exponents, booleans and null are refused: no valid header holds them. Every value
 * remembers the byte offset where it starts, so errors can point into the file.
 */
sealed interface Json {

    /** Byte offset of the value's first character, in the source the header was read from. */
    long offset();

    record Obj(SequencedMap<String, Json> members, long offset) implements Json {
    }

    record Arr(List<Json> items, long offset) implements Json {
    }

    record Str(String value, long offset) implements Json {
    }

    record Int(long value, long offset) implements Json {
    }

    /** Nesting deeper than this is refused rather than risking a stack overflow on hostile input. */
    int MAX_DEPTH = 32;

    /**
     * Parses one JSON value filling {@code bytes}, except for trailing whitespace (safetensors pads with spaces).
     *
     * @param base byte offset of {@code bytes[0]} in the source, for error messages
     */
    static Json parse(byte[] bytes, String source, long base) throws TensorFormatException {
        Parser parser = new Parser(bytes, source, base);
        parser.skipWhitespace();
        Json value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos != bytes.length) {
            throw parser.error("unexpected '" + (char) (bytes[parser.pos] & 0xFF) + "' after the JSON value");
        }
        return value;
    }

    /** Appends {@code value} as a JSON string literal (UTF-8 kept as is, control characters escaped). */
    static void writeString(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** A recursive-descent parser over raw bytes, so offsets in errors are byte offsets. */
    final class Parser {
        private final byte[] bytes;
        private final String source;
        private final long base;
        private int pos;

        Parser(byte[] bytes, String source, long base) {
            this.bytes = bytes;
            this.source = source;
            this.base = base;
        }

        TensorFormatException error(String problem) {
            return new TensorFormatException(source, base + pos, "bad JSON header: " + problem);
        }

        void skipWhitespace() {
            while (pos < bytes.length && (bytes[pos] == ' ' || bytes[pos] == '\n' || bytes[pos] == '\r'
                    || bytes[pos] == '\t')) {
                pos++;
            }
        }

        private int peek() throws TensorFormatException {
            if (pos >= bytes.length) {
                throw error("unexpected end of the header");
            }
            return bytes[pos] & 0xFF;
        }

        private void expect(char c) throws TensorFormatException {
            if (peek() != c) {
                throw error("expected '" + c + "' but found '" + (char) peek() + "'");
            }
            pos++;
        }

        Json value(int depth) throws TensorFormatException {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            int c = peek();
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> new Str(string(), base + pos);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield integer();
                    }
                    throw error("unexpected '" + (char) c + "' (only objects, arrays, strings and integers are "
                            + "expected)");
                }
            };
        }

        private Obj object(int depth) throws TensorFormatException {
            long start = base + pos;
            expect('{');
            SequencedMap<String, Json> members = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return new Obj(members, start);
            }
            while (true) {
                skipWhitespace();
                int keyPos = pos;
                if (peek() != '"') {
                    throw error("expected a string key");
                }
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                Json value = value(depth + 1);
                if (members.putIfAbsent(key, value) != null) {
                    pos = keyPos;
                    throw error("duplicate key \"" + key + "\"");
                }
                skipWhitespace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return new Obj(members, start);
                }
            }
        }

        private Arr array(int depth) throws TensorFormatException {
            long start = base + pos;
            expect('[');
            List<Json> items = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return new Arr(items, start);
            }
            while (true) {
                skipWhitespace();
                items.add(value(depth + 1));
                skipWhitespace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return new Arr(items, start);
                }
            }
        }

        private Int integer() throws TensorFormatException {
            int start = pos;
            boolean negative = peek() == '-';
            if (negative) {
                pos++;
            }
            int digitsStart = pos;
            long magnitude = 0;
            while (pos < bytes.length && bytes[pos] >= '0' && bytes[pos] <= '9') {
                int digit = bytes[pos] - '0';
                if (magnitude > (Long.MAX_VALUE - digit) / 10) {
                    pos = start;
                    throw error("integer does not fit 64 bits");
                }
                magnitude = magnitude * 10 + digit;
                pos++;
            }
            if (pos == digitsStart) {
                throw error("expected digits");
            }
            if (bytes[digitsStart] == '0' && pos - digitsStart > 1) {
                pos = digitsStart;
                throw error("leading zeros are not JSON");
            }
            if (pos < bytes.length && (bytes[pos] == '.' || bytes[pos] == 'e' || bytes[pos] == 'E')) {
                throw error("only integers are expected in a header");
            }
            return new Int(negative ? -magnitude : magnitude, base + start);
        }

        /** Reads a string literal; raw bytes must be valid UTF-8. */
        private String string() throws TensorFormatException {
            expect('"');
            StringBuilder text = new StringBuilder();
            int runStart = pos;
            while (true) {
                int c = peek();
                if (c == '"' || c == '\\') {
                    text.append(decodeUtf8(runStart, pos));
                    pos++;
                    if (c == '"') {
                        return text.toString();
                    }
                    escape(text);
                    runStart = pos;
                } else if (c < 0x20) {
                    throw error("control character in a string");
                } else {
                    pos++;
                }
            }
        }

        private void escape(StringBuilder text) throws TensorFormatException {
            int c = peek();
            pos++;
            switch (c) {
                case '"' -> text.append('"');
                case '\\' -> text.append('\\');
                case '/' -> text.append('/');
                case 'b' -> text.append('\b');
                case 'f' -> text.append('\f');
                case 'n' -> text.append('\n');
                case 'r' -> text.append('\r');
                case 't' -> text.append('\t');
                case 'u' -> {
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int digit = Character.digit(peek(), 16);
                        if (digit < 0) {
                            throw error("bad \\u escape");
                        }
                        code = code * 16 + digit;
                        pos++;
                    }
                    text.append((char) code);
                }
                default -> {
                    pos--;
                    throw error("unknown escape '\\" + (char) c + "'");
                }
            }
        }

        private String decodeUtf8(int from, int to) throws TensorFormatException {
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, from, to - from))
                        .toString();
            } catch (CharacterCodingException e) {
                pos = from;
                throw error("string is not valid UTF-8");
            }
        }
    }

    /** A readable name for a value's kind, for error messages. */
    static String kind(Json value) {
        return switch (value) {
            case Obj ignored -> "an object";
            case Arr ignored -> "an array";
            case Str ignored -> "a string";
            case Int ignored -> "an integer";
        };
    }
}
