package dev.offload.gateway.generation;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Per-gateway shares of a backend's batch size and their correction by vLLM's gauges. */
class BackendShareTest {

    @Test
    void theSharesOfOneBackendAddUpToItsBatchSizeAndTheRemainderRotates() {
        for (int max = 1; max <= 20; max++) {
            for (int members = 1; members <= 6; members++) {
                for (int replica = 0; replica < 4; replica++) {
                    int sum = 0;
                    for (int rank = 0; rank < members; rank++) {
                        int s = Replica.share(max, members, rank, replica);
                        assertEquals(true, s >= 1 && s <= max, "share " + s);
                        sum += s;
                    }
                    assertEquals(Math.max(max, members), sum, "max " + max + ", members " + members);
                }
            }
        }
        // 8 slots, 3 gateways: 3+3+2 on each backend, the 2 on a different gateway per backend.
        assertEquals(List.of(3, 3, 2), List.of(Replica.share(8, 3, 0, 0), Replica.share(8, 3, 1, 0), Replica.share(8, 3, 2, 0)));
        assertEquals(List.of(2, 3, 3), List.of(Replica.share(8, 3, 0, 1), Replica.share(8, 3, 1, 1), Replica.share(8, 3, 2, 1)));
        assertEquals(8, Replica.share(8, 1, 0, 5), "one member: the whole batch");
        assertThrows(IllegalArgumentException.class, () -> Replica.share(8, 3, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> Replica.share(0, 3, 0, 0));
    }

    @Test
    void theLimitFollowsTheShareAndQueuedCallsStartWhenItGrows() {
        Replica r = new Replica("edge", 0, "http://r0", 8, 8, null);
        assertEquals(8, r.limit());
        r.share(3);
        assertEquals(3, r.limit());
        r.share(8);
        assertEquals(8, r.limit(), "the whole batch again");
        assertThrows(IllegalArgumentException.class, () -> r.share(0));
        assertThrows(IllegalArgumentException.class, () -> r.share(9));

        List<Replica> rs = List.of(new Replica("edge", 0, "http://a", 4, 4, null), new Replica("edge", 1, "http://b", 4, 4, null));
        TierRegistry registry = new TierRegistry(List.of(new Tier("edge", dev.offload.gateway.privacy.Zone.EDGE, rs, 16,
                x -> true, () -> 0L)), Map.of());
        registry.shareBackends(1, 2);
        assertEquals(List.of(2, 2), rs.stream().map(Replica::limit).toList());
        registry.shareBackends(0, 3);
        assertEquals(List.of(2, 1), rs.stream().map(Replica::limit).toList(), "4 over 3: 2,1,1 on a, rotated on b");
        registry.shareBackends(0, 1);
        assertEquals(List.of(4, 4), rs.stream().map(Replica::limit).toList());
    }

    @Test
    void vllmGaugesLowerTheShareWhenOthersHoldMoreThanTheirs() {
        Replica r = new Replica("edge", 0, "http://r0", 8, 8, null);
        r.vllm(new Replica.VllmGauges(8, 6, 0.5));
        assertEquals(8, r.limit(), "without a share (embedded mode) the gauges change nothing");
        r.share(3);
        r.acquire();
        r.acquire();
        // vLLM holds 8 running + 0 waiting; 2 are ours, so the others hold 6: their shares allow 5.
        r.vllm(new Replica.VllmGauges(8, 0, 0.5));
        assertEquals(2, r.limit(), "one over: this gateway yields one slot");
        r.vllm(new Replica.VllmGauges(7, 0, 0.5));
        assertEquals(3, r.limit(), "the others within their shares: the share holds");
        r.vllm(new Replica.VllmGauges(8, 30, 0.9));
        assertEquals(1, r.limit(), "never below one");
        r.vllm(Replica.VllmGauges.UNKNOWN);
        assertEquals(3, r.limit(), "gauges unknown: the share");
    }
}
