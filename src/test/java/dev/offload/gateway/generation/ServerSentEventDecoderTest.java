package dev.offload.gateway.generation;

import dev.langchain4j.http.client.sse.ServerSentEvent;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerSentEventDecoderTest {

    private static List<ServerSentEvent> decode(String... chunks) {
        List<ServerSentEvent> out = new ArrayList<>();
        ServerSentEventDecoder d = new ServerSentEventDecoder(out::add);
        for (String c : chunks) {
            d.feed(Buffer.buffer(c.getBytes(StandardCharsets.UTF_8)));
        }
        d.end();
        return out;
    }

    @Test
    void openAiChunksAndDoneAreSeparateEvents() {
        List<ServerSentEvent> ev = decode("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n");
        assertEquals(List.of(new ServerSentEvent(null, "{\"a\":1}"), new ServerSentEvent(null, "{\"b\":2}"),
                new ServerSentEvent(null, "[DONE]")), ev);
    }

    @Test
    void eachEventIsDispatchedAsSoonAsItsBlankLineArrives() {
        List<ServerSentEvent> out = new ArrayList<>();
        ServerSentEventDecoder d = new ServerSentEventDecoder(out::add);
        d.feed(Buffer.buffer("data: one\n"));
        assertEquals(0, out.size());
        d.feed(Buffer.buffer("\ndata: tw"));
        assertEquals(List.of(new ServerSentEvent(null, "one")), out);
        d.feed(Buffer.buffer("o\n\n"));
        assertEquals(2, out.size());
    }

    @Test
    void fieldsFollowTheSpecification() {
        List<ServerSentEvent> ev = decode(
                ": keep-alive comment\n",
                "event: error\ndata: first\ndata:second\nid: 7\nretry: 10\n\n",
                "data\n\n",                   // a field without a colon: empty value
                "event: lonely\n\n",           // no data: nothing dispatched, the type is reset
                "data:  two spaces\n\n");
        assertEquals(List.of(new ServerSentEvent("error", "first\nsecond"), new ServerSentEvent(null, ""),
                new ServerSentEvent(null, " two spaces")), ev);
    }

    @Test
    void crLfAndCrLfLineEndsAreEquivalent() {
        assertEquals(decode("data: x\n\n"), decode("data: x\r\n\r\n"));
        assertEquals(decode("data: x\n\n"), decode("data: x\r\r"));
        // CR at the end of one chunk, LF at the start of the next: one line end, not two.
        assertEquals(List.of(new ServerSentEvent(null, "x\ny")), decode("data: x\r", "\ndata: y\r\n\r\n"));
    }

    @Test
    void aLeadingBomIsDroppedAndAnUnterminatedEventIsDiscarded() {
        assertEquals(List.of(new ServerSentEvent(null, "a")), decode("\uFEFFdata: a\n\ndata: cut off"));
    }

    @Test
    void anyChunkingGivesTheSameEvents() {
        StringBuilder body = new StringBuilder();
        List<ServerSentEvent> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String data = "{\"content\":\"tök" + i + " ✓ 𝄞\"}";
            String eol = i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r";
            body.append(i % 5 == 0 ? ": ping" + eol : "").append("data: ").append(data).append(eol).append(eol);
            expected.add(new ServerSentEvent(null, data));
        }
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            List<ServerSentEvent> out = new ArrayList<>();
            ServerSentEventDecoder d = new ServerSentEventDecoder(out::add);
            int from = 0;
            while (from < bytes.length) {
                int n = 1 + random.nextInt(Math.min(24, bytes.length - from));
                d.feed(Buffer.buffer().appendBytes(bytes, from, n)); // splits lines, CRLFs and UTF-8 characters
                from += n;
            }
            assertEquals(expected, out, "seed " + seed + ", round " + round);
        }
        assertTrue(bytes.length > 1000, "the body spans many chunks");
    }
}
