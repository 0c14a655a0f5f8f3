package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.Zone;

import java.util.List;

/** Tiers for tests outside this package: one replica, no backend behind it. */
public final class TierFixtures {
    private TierFixtures() {
    }

    public static Tier tier(String name, Zone zone) {
        Replica r = new Replica(name, 0, "http://" + name + "/v1", 4, 4, (request, model, listener) -> () -> {
        });
        return new Tier(name, zone, List.of(r), 16, r2 -> true, System::nanoTime);
    }
}
