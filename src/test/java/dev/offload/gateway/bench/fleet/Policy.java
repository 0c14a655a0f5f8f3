package dev.offload.gateway.bench.fleet;

import java.util.Locale;

/** How a simulated device chooses where a query runs. */
enum Policy {
    /** Follow the gateway's hints (see {@link SimulatedDevice} for the protocol). */
    HINTS("hints", "follow hints"),
    /** Send every query to the gateway while online; answer locally only what comes back unanswered. */
    OFFLOAD("offload", "always offload"),
    /** Never contact the gateway. */
    LOCAL("local", "never offload");

    final String wire;
    final String label;

    Policy(String wire, String label) {
        this.wire = wire;
        this.label = label;
    }

    static Policy parse(String s) {
        for (Policy p : values()) {
            if (p.wire.equals(s.strip().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("a policy is hints, offload or local: " + s);
    }
}
