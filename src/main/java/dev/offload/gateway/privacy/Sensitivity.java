package dev.offload.gateway.privacy;

import java.util.Locale;

/**
 * How far data may travel, in increasing order of protection: {@code public} and
 * {@code internal} may go to any tier, {@code confidential} never leaves the edge zone (no
 * external tier), {@code restricted} never leaves the device (no remote prompt at all).
 */
public enum Sensitivity {
    PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED;

    /** Parses a wire value, case-insensitively; null or blank means {@code otherwise}. */
    public static Sensitivity parse(String value, Sensitivity otherwise) {
        if (value == null || value.isBlank()) {
            return otherwise;
        }
        try {
            return valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sensitivity must be one of public, internal, confidential, restricted");
        }
    }

    /** The stricter of the two. */
    public Sensitivity max(Sensitivity other) {
        return other != null && other.ordinal() > ordinal() ? other : this;
    }

    /** May a prompt holding data of this level go to a tier of that kind? */
    public boolean allowsTier(boolean external) {
        return this != RESTRICTED && !(external && this == CONFIDENTIAL);
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
