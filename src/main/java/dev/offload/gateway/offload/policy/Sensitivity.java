package dev.offload.gateway.offload.policy;

import java.util.Locale;

/**
 * How sensitive a query is, as far as the policy cares, least to most; the same four levels as
 * the gateway's {@code privacy.Sensitivity} (which maps onto these by name). Restricted data never
 * leaves the device; confidential data never leaves the edge zone.
 */
public enum Sensitivity {
    PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED;

    /** May a prompt of this level go to a tier that is (or is not) outside the edge zone? */
    public boolean allowsTier(boolean external) {
        return this != RESTRICTED && !(external && this == CONFIDENTIAL);
    }

    /** Wire names {@code public|internal|confidential|restricted}, any case; null stays null. */
    public static Sensitivity parse(String v) {
        return v == null ? null : valueOf(v.strip().toUpperCase(Locale.ROOT));
    }
}
