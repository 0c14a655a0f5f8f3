package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.Zone;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admission, caps and routing of a tier, with a fake clock and no backend. */
class TierTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private static final class FakeTicket implements Tier.Ticket {
        final String tenant;
        final Priority priority;
        final long deadline;
        final String affinity;
        final Set<Replica> excluded = new HashSet<>();
        Replica startedOn;
        Slot slot;
        boolean stranded;
        int weight = 1;

        FakeTicket(String tenant, Priority priority, long deadline, String affinity) {
            this.tenant = tenant;
            this.priority = priority;
            this.deadline = deadline;
            this.affinity = affinity;
        }

        public String tenant() { return tenant; }
        public Priority priority() { return priority; }
        public long deadlineNanos() { return deadline; }
        public String affinityKey() { return affinity; }
        public Set<Replica> excluded() { return excluded; }
        public void start(Slot slot, long queuedNanos) { this.slot = slot; startedOn = slot.replica(); }
        public void stranded() { stranded = true; }
        public int weight() { return weight; }
    }

    private Tier tier(int replicas, int maxConcurrency, int queue) {
        List<Replica> rs = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            rs.add(new Replica("edge", i, "http://r" + i, maxConcurrency, maxConcurrency, null));
        }
        return new Tier("edge", Zone.EDGE, rs, queue, r -> true, clock::get);
    }

    private FakeTicket ticket(String tenant, Priority p) {
        return new FakeTicket(tenant, p, Long.MAX_VALUE, null);
    }

    @Test
    void neverMoreInFlightThanTheLimitPerReplica() {
        Tier t = tier(2, 3, 100);
        List<FakeTicket> tickets = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            FakeTicket k = ticket("t", Priority.INTERACTIVE);
            assertNull(t.admit(k));
            tickets.add(k);
        }
        assertEquals(6, tickets.stream().filter(k -> k.startedOn != null).count());
        for (Replica r : t.replicas()) {
            assertEquals(3, r.inFlight());
        }
        assertEquals(4, t.queueLength());
        // A finished request lets exactly one waiting request start, on the freed replica.
        Replica freed = tickets.get(0).startedOn;
        tickets.get(0).slot.completed(1_000_000);
        assertEquals(7, tickets.stream().filter(k -> k.startedOn != null).count());
        assertEquals(3, freed.inFlight());
    }

    @Test
    void aRequestOfSeveralChoicesTakesAsManyBatchPlaces() {
        Tier t = tier(1, 4, 10);
        FakeTicket one = ticket("t", Priority.INTERACTIVE);
        assertNull(t.admit(one));
        FakeTicket four = ticket("t", Priority.INTERACTIVE);
        four.weight = 4; // n = 4: four sequences in the backend's batch
        assertNull(t.admit(four));
        assertNull(four.startedOn, "1 + 4 sequences do not fit a batch of 4: it waits");
        assertEquals(1, t.replicas().get(0).inFlight());
        one.slot.completed(1_000_000);
        assertNotNull(four.startedOn);
        assertEquals(4, t.replicas().get(0).inFlight());
        FakeTicket next = ticket("t", Priority.INTERACTIVE);
        assertNull(t.admit(next));
        assertNull(next.startedOn, "the batch is full");
        four.slot.completed(1_000_000);
        assertNotNull(next.startedOn);
        assertEquals(1, t.replicas().get(0).inFlight(), "the four places came back whole");
        // Heavier than the whole limit: it runs alone once the replica is idle, rather than never.
        FakeTicket sixteen = ticket("t", Priority.INTERACTIVE);
        sixteen.weight = 16;
        assertNull(t.admit(sixteen));
        assertNull(sixteen.startedOn);
        next.slot.ignored();
        assertNotNull(sixteen.startedOn);
        assertEquals(16, t.replicas().get(0).inFlight());
        sixteen.slot.dropped(0, 1_000);
        assertEquals(0, t.replicas().get(0).inFlight());
    }

    @Test
    void queuedInteractiveStartsBeforeQueuedBackground() {
        Tier t = tier(1, 1, 10);
        FakeTicket running = ticket("t", Priority.INTERACTIVE);
        t.admit(running);
        FakeTicket bg = ticket("t", Priority.BACKGROUND);
        FakeTicket fg = ticket("t", Priority.INTERACTIVE);
        t.admit(bg);
        t.admit(fg);
        running.slot.completed(1000);
        assertNotNull(fg.startedOn);
        assertNull(bg.startedOn);
    }

    @Test
    void refusesWhenFullAndWhenTheDeadlineCannotBeMet() {
        Tier t = tier(1, 1, 1);
        FakeTicket first = ticket("t", Priority.INTERACTIVE);
        t.admit(first);
        first.slot.completed(2_000_000_000L); // a measured service time: 2 s
        t.admit(ticket("t", Priority.INTERACTIVE)); // runs
        // Waiting 2 s + serving 2 s cannot finish within 1 s: refused at once.
        Tier.Refusal late = t.admit(new FakeTicket("t", Priority.INTERACTIVE, clock.get() + 1_000_000_000L, null));
        assertNotNull(late);
        assertEquals("deadline", late.reason());
        assertTrue(late.retryAfterNanos() > 0);
        assertNull(t.admit(ticket("t", Priority.INTERACTIVE))); // waits (queue of 1)
        Tier.Refusal full = t.admit(ticket("t", Priority.INTERACTIVE));
        assertEquals("queue_full", full.reason());
    }

    @Test
    void refusesAWaitLongerThanTheCapEvenWithoutADeadline() {
        List<Replica> rs = List.of(new Replica("edge", 0, "http://a", 1, 1, null));
        Tier t = new Tier("edge", Zone.EDGE, rs, 100, 3_000_000_000L, r -> true, clock::get);
        FakeTicket first = ticket("t", Priority.INTERACTIVE);
        t.admit(first);
        first.slot.completed(1_000_000_000L); // measured service: 1 s, one slot
        t.admit(ticket("t", Priority.INTERACTIVE)); // runs
        for (int i = 0; i < 3; i++) {
            assertNull(t.admit(ticket("t", Priority.INTERACTIVE)), "waits " + (i + 1) + " s");
        }
        Tier.Refusal r = t.admit(ticket("t", Priority.INTERACTIVE));
        assertNotNull(r, "a fourth would wait 4 s > 3 s");
        assertEquals("queue_wait", r.reason());
    }

    @Test
    void sameAffinityKeyGoesToTheSameReplicaUntilItIsHalfABatchBusier() {
        Tier t = tier(4, 8, 10);
        List<Replica> placed = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            FakeTicket k = new FakeTicket("t", Priority.INTERACTIVE, Long.MAX_VALUE, "context-42");
            t.admit(k);
            placed.add(k.startedOn);
        }
        // Limit 8: the preferred replica takes requests while it carries at most 4 (half a
        // batch) more than the idle ones, so the first five share it and the sixth spills.
        assertEquals(1, new HashSet<>(placed.subList(0, 5)).size());
        assertTrue(placed.get(5) != placed.get(0));
    }

    @Test
    void excludedOrOpenReplicasAreSkipped() {
        List<Replica> rs = List.of(new Replica("edge", 0, "http://a", 2, 2, null), new Replica("edge", 1, "http://b", 2, 2, null));
        Tier t = new Tier("edge", Zone.EDGE, rs, 10, r -> r.index() == 1, clock::get);
        FakeTicket k = ticket("t", Priority.INTERACTIVE);
        t.admit(k);
        assertEquals(1, k.startedOn.index());
        FakeTicket excluded = ticket("t", Priority.INTERACTIVE);
        excluded.excluded.add(rs.get(1));
        assertEquals("no_backend", t.admit(excluded).reason());
    }

    @Test
    void waitingTicketsLeaveTheQueueWhenEveryCircuitOpens() {
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean();
        List<Replica> rs = List.of(new Replica("edge", 0, "http://r0", 1, 1, null));
        Tier t = new Tier("edge", Zone.EDGE, rs, 10, r -> !open.get(), clock::get);
        FakeTicket running = ticket("t", Priority.INTERACTIVE);
        FakeTicket waiting = ticket("t", Priority.INTERACTIVE);
        t.admit(running);
        t.admit(waiting);
        assertEquals(1, t.queueLength());
        open.set(true); // the running call failed and opened the circuit
        running.slot.completed(0);
        assertTrue(waiting.stranded, "the waiting ticket was sent elsewhere instead of waiting out its deadline");
        assertEquals(0, t.queueLength());
        assertEquals(null, waiting.startedOn);
    }

    @Test
    void aRequestWhoseBudgetIsShorterThanTheMeasuredFirstTokenTimeIsRefusedBeforeAnyCall() {
        Tier t = tier(1, 4, 10);
        long now = clock.get();
        // Until a first token was measured, only a deadline already passed is refused.
        assertEquals("deadline", t.admit(new FakeTicket("t", Priority.INTERACTIVE, now, null)).reason());
        FakeTicket early = new FakeTicket("t", Priority.INTERACTIVE, now + 1, null);
        assertNull(t.admit(early));
        t.recordCompletion(800_000_000L, 1, 0); // the tier's first token takes 800 ms
        early.slot.completed(900_000_000L);
        FakeTicket tight = new FakeTicket("t", Priority.INTERACTIVE, now + 700_000_000L, null);
        Tier.Refusal r = t.admit(tight);
        assertNotNull(r, "700 ms left < 800 ms to a first token: no call may start");
        assertEquals("deadline", r.reason());
        assertNull(tight.startedOn);
        assertTrue(r.retryAfterNanos() > 0);
        FakeTicket enough = new FakeTicket("t", Priority.INTERACTIVE, now + 2_000_000_000L, null);
        assertNull(t.admit(enough));
        assertNotNull(enough.startedOn, "2 s left: the call starts");
        // The check holds again when a queued ticket leaves the queue, whose budget ran down meanwhile.
        assertTrue(t.firstTokenInTime(enough, now + 1_200_000_000L));
        assertTrue(!t.firstTokenInTime(enough, now + 1_300_000_000L));
    }

    @Test
    void aHalfOpenReplicaTakesOneProbeAtATime() {
        java.util.concurrent.atomic.AtomicBoolean halfOpen = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Replica> rs = List.of(new Replica("edge", 0, "http://r0", 4, 4, null));
        Tier t = new Tier("edge", Zone.EDGE, rs, 10, Long.MAX_VALUE, r -> true, r -> halfOpen.get(), clock::get);
        List<FakeTicket> tickets = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            FakeTicket k = ticket("t", Priority.INTERACTIVE);
            assertNull(t.admit(k));
            tickets.add(k);
        }
        assertEquals(1, rs.get(0).inFlight(), "one probe while half-open, not the whole limit of 4");
        assertEquals(4, t.queueLength());
        assertEquals(1, t.state().slots());
        halfOpen.set(false); // the probe succeeded: the circuit closed
        tickets.get(0).slot.completed(100_000_000L);
        assertEquals(4, rs.get(0).inFlight(), "closed: up to the adaptive limit");
        assertEquals(0, t.queueLength());
    }

    @Test
    void aSlotIsClosedExactlyOnceWhateverItsOutcomes() {
        Tier t = tier(1, 2, 10);
        FakeTicket a = new FakeTicket("t", Priority.INTERACTIVE, Long.MAX_VALUE, null);
        assertNull(t.admit(a));
        Replica r = a.startedOn;
        assertEquals(1, r.inFlight());
        a.slot.completed(1_000_000);
        a.slot.ignored();
        a.slot.dropped(0, 1);
        assertEquals(0, r.inFlight(), "a second or third close frees nothing more");
        assertTrue(a.slot.isClosed());
    }
}
