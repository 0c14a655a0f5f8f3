package dev.offload.gateway.offload;

import dev.offload.gateway.offload.policy.GatewaySnapshot;
import dev.offload.gateway.offload.policy.GatewayView.TierView;
import dev.offload.gateway.offload.policy.PolicySettings;
import dev.offload.gateway.offload.policy.TierState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The watch fan-out on a fake clock: first snapshot at once, change, heartbeat, coalescing, limits, clean-up. */
class WatchFeedTest {
    final AtomicLong now = new AtomicLong(1_000);
    final AtomicReference<GatewaySnapshot> state = new AtomicReference<>(snapshot(2));
    final WatchFeed feed = new WatchFeed(state::get, now::get, 10_000, 30_000, 2, 3);

    static GatewaySnapshot snapshot(int healthyEdge) {
        return new GatewaySnapshot(42, 0, 0, 1,
                new TierView(new TierState("edge", false, 2, healthyEdge, 8 * healthyEdge, 0, 0, 64, 0, 150, 50, 0, 5000), 8192, 2000),
                null, new GatewaySnapshot.CacheState(true), PolicySettings.defaults());
    }

    @Test
    void aWatcherGetsTheCurrentSnapshotAtOnceThenChangesThenHeartbeats() {
        List<GatewaySnapshot> got = new ArrayList<>();
        feed.open("t", "d", p -> got.add(p.snapshot()));
        assertEquals(1, got.size(), "the first snapshot before open returns");
        assertEquals(1, got.get(0).version());
        assertEquals(30_000, got.get(0).validForMs());
        assertEquals(1_000, got.get(0).issuedAtMs());

        now.addAndGet(500);
        feed.tick();
        assertEquals(1, got.size(), "nothing changed, no heartbeat due: nothing sent");

        state.set(snapshot(0)); // both edge circuits open
        now.addAndGet(500);
        feed.tick();
        assertEquals(2, got.size());
        assertEquals(2, got.get(1).version());
        assertEquals(0, got.get(1).edge().state().healthyReplicas());

        now.addAndGet(9_999);
        feed.tick();
        assertEquals(2, got.size(), "heartbeat not yet due");
        now.addAndGet(1);
        feed.tick();
        assertEquals(3, got.size(), "heartbeat");
        assertEquals(2, got.get(2).version(), "a heartbeat repeats the version");
        assertTrue(got.get(2).sameState(got.get(1)));
        assertEquals(now.get(), got.get(2).issuedAtMs());
    }

    @Test
    void changesWithinOneTickAreOnePublicationEncodedOnceForAllWatchers() {
        AtomicInteger encodings = new AtomicInteger();
        Function<GatewaySnapshot, String> encoder = s -> {
            encodings.incrementAndGet();
            return s.toJson();
        };
        List<String> got = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            feed.open("t" + i, "d", p -> got.add(p.encoded(encoder)));
        }
        assertEquals(3, got.size());
        assertEquals(1, encodings.get(), "the first snapshot is encoded once for three watchers");
        state.set(snapshot(1));
        state.set(snapshot(0));
        feed.tick();
        assertEquals(6, got.size());
        assertEquals(2, encodings.get());
        assertTrue(got.get(5).contains("\"healthyReplicas\":0"), got.get(5));
    }

    @Test
    void watchersAreBoundedPerDeviceAndPerTenantAndClosingFreesThePlace() {
        WatchFeed.Watcher a = feed.open("acme", "phone-1", p -> { });
        feed.open("acme", "phone-1", p -> { });
        WatchFeed.LimitExceeded device = assertThrows(WatchFeed.LimitExceeded.class, () -> feed.open("acme", "phone-1", p -> { }));
        assertEquals("device", device.limit());
        assertTrue(device.getMessage().contains("gateway.watch.max-per-device"), device.getMessage());
        feed.open("acme", "phone-2", p -> { });
        WatchFeed.LimitExceeded tenant = assertThrows(WatchFeed.LimitExceeded.class, () -> feed.open("acme", "phone-3", p -> { }));
        assertEquals("tenant", tenant.limit());
        feed.open("globex", "phone-1", p -> { }); // another tenant, same device name: its own count
        assertEquals(4, feed.watchers());
        a.close();
        a.close(); // once only
        assertEquals(3, feed.watchers());
        feed.open("acme", "phone-3", p -> { });
        assertEquals(4, feed.watchers());
    }

    @Test
    void aBrokenSinkClosesOnlyItsOwnWatcher() {
        List<GatewaySnapshot> healthy = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        WatchFeed.Watcher broken = feed.open("t", "broken", p -> {
            if (calls.incrementAndGet() > 1) {
                throw new IllegalStateException("connection reset");
            }
        });
        feed.open("t", "ok", p -> healthy.add(p.snapshot()));
        state.set(snapshot(0));
        feed.tick();
        assertTrue(broken.closed());
        assertEquals(1, feed.watchers());
        assertEquals(2, healthy.size());
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new WatchFeed(state::get, now::get, 10_000, 10_000, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new WatchFeed(state::get, now::get, 1_000, 10_000, 0, 1));
    }
}
