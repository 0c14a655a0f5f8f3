package dev.offload.gateway.generation;

import dev.langchain4j.http.client.sse.ServerSentEvent;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Push-style decoder of a {@code text/event-stream} body, following the WHATWG HTML "server-sent
 * events" interpretation rules: lines end in CR, LF or CRLF; {@code data} lines accumulate, an
 * empty line dispatches the event, {@code :} starts a comment, {@code id} and {@code retry} are
 * read and ignored (a proxy neither reconnects nor resumes), a leading BOM is dropped and an
 * event not closed by an empty line before the end of the body is discarded.
 *
 * <p>Each event is handed on as soon as its closing empty line has arrived, whatever the chunking
 * of the body: nothing waits for more input. Line bytes are kept until the line ends, so a UTF-8
 * character split across two chunks decodes correctly.
 *
 * <p>Not thread-safe: one instance per response, fed from that response's I/O thread.
 */
final class ServerSentEventDecoder {
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private final Consumer<ServerSentEvent> sink;
    private byte[] line = new byte[512];
    private int lineLength;
    private boolean afterCr;
    private boolean started;
    private String eventType;
    private StringBuilder data;

    ServerSentEventDecoder(Consumer<ServerSentEvent> sink) {
        this.sink = sink;
    }

    /** Decodes one chunk of the body; events it completes go to the sink before this returns. */
    void feed(Buffer chunk) {
        int n = chunk.length();
        int i = 0;
        if (!started && n > 0) {
            started = true;
            if (n >= 3 && chunk.getByte(0) == (byte) 0xEF && chunk.getByte(1) == (byte) 0xBB && chunk.getByte(2) == (byte) 0xBF) {
                i = 3;
            }
        }
        for (; i < n; i++) {
            byte b = chunk.getByte(i);
            if (b == LF) {
                if (afterCr) {
                    afterCr = false; // the LF of a CRLF: the line already ended at the CR
                } else {
                    endLine();
                }
            } else if (b == CR) {
                afterCr = true;
                endLine();
            } else {
                afterCr = false;
                if (lineLength == line.length) {
                    line = Arrays.copyOf(line, line.length * 2);
                }
                line[lineLength++] = b;
            }
        }
    }

    /** The body ended: an unterminated event is dropped, as the specification requires. */
    void end() {
        lineLength = 0;
        data = null;
        eventType = null;
    }

    private void endLine() {
        if (lineLength == 0) {
            dispatch();
            return;
        }
        String text = new String(line, 0, lineLength, StandardCharsets.UTF_8);
        lineLength = 0;
        if (text.charAt(0) == ':') {
            return; // comment (keep-alive pings)
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        String value;
        if (colon < 0) {
            value = "";
        } else {
            int from = colon + 1 < text.length() && text.charAt(colon + 1) == ' ' ? colon + 2 : colon + 1;
            value = text.substring(from);
        }
        switch (field) {
            case "data" -> {
                if (data == null) {
                    data = new StringBuilder(value.length());
                } else {
                    data.append('\n');
                }
                data.append(value);
            }
            case "event" -> eventType = value;
            default -> {
                // id, retry and unknown fields: nothing for a one-shot stream
            }
        }
    }

    private void dispatch() {
        StringBuilder d = data;
        String type = eventType;
        data = null;
        eventType = null;
        if (d == null) {
            return; // no data field: per the specification nothing is dispatched
        }
        sink.accept(new ServerSentEvent(type == null || type.isEmpty() ? null : type, d.toString()));
    }
}
