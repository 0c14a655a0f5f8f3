package dev.offload.gateway.generation;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionQueueTest {
    private static List<String> drain(AdmissionQueue<String> q) {
        List<String> out = new ArrayList<>();
        for (String s; (s = q.poll()) != null; ) {
            out.add(s);
        }
        return out;
    }

    @Test
    void interactiveAlwaysBeforeBackground() {
        AdmissionQueue<String> q = new AdmissionQueue<>(10);
        q.offer("t", Priority.BACKGROUND, "b1");
        q.offer("t", Priority.INTERACTIVE, "i1");
        q.offer("t", Priority.BACKGROUND, "b2");
        q.offer("t", Priority.INTERACTIVE, "i2");
        assertEquals(List.of("i1", "i2", "b1", "b2"), drain(q));
    }

    @Test
    void tenantsTakeTurnsAndKeepTheirOwnOrder() {
        AdmissionQueue<String> q = new AdmissionQueue<>(10);
        for (int i = 1; i <= 4; i++) {
            q.offer("burst", Priority.INTERACTIVE, "a" + i);
        }
        q.offer("quiet", Priority.INTERACTIVE, "b1");
        q.offer("other", Priority.INTERACTIVE, "c1");
        assertEquals(List.of("a1", "b1", "c1", "a2", "a3", "a4"), drain(q));
    }

    @Test
    void boundedAndRemovable() {
        AdmissionQueue<String> q = new AdmissionQueue<>(2);
        assertTrue(q.offer("t", Priority.INTERACTIVE, "x"));
        assertTrue(q.offer("u", Priority.INTERACTIVE, "y"));
        assertFalse(q.offer("t", Priority.INTERACTIVE, "z"), "full");
        assertEquals("x", q.peek());
        assertTrue(q.remove("t", Priority.INTERACTIVE, "x"));
        assertFalse(q.remove("t", Priority.INTERACTIVE, "x"));
        assertEquals(1, q.size());
        assertEquals(List.of("y"), drain(q));
        assertNull(q.poll());
    }
}
