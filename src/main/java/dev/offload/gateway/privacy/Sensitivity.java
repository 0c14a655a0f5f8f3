package dev.offload.gateway.privacy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How sensitive a document, chunk or query is, ordered from least to most: a query's effective
 * sensitivity is the {@link #max highest} of what it asks for and of every chunk retrieved for it.
 * On the wire and in metadata the levels are written in lower case ({@code public},
 * {@code internal}, {@code confidential}, {@code restricted}); {@link #parse} accepts any case.
 */
public enum Sensitivity {
    PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED;

    private static final String ACCEPTED = Arrays.stream(values()).map(Sensitivity::wireName)
            .collect(Collectors.joining(", "));

    /**
     * Reads a level, ignoring case and surrounding blanks.
     *
     * @throws IllegalArgumentException naming the accepted values when {@code value} is null, blank or unknown
     */
    @JsonCreator
    public static Sensitivity parse(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("sensitivity is missing; expected one of " + ACCEPTED);
        }
        String v = value.strip().toUpperCase(Locale.ROOT);
        for (Sensitivity s : values()) {
            if (s.name().equals(v)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown sensitivity '" + value.strip() + "'; expected one of " + ACCEPTED);
    }

    /** Reads a level; null or blank means {@code otherwise}. */
    public static Sensitivity parse(String value, Sensitivity otherwise) {
        return value == null || value.isBlank() ? otherwise : parse(value);
    }

    /**
     * May a prompt holding data of this level go to a tier of that kind? Restricted goes nowhere
     * remote; confidential never leaves the edge zone.
     */
    public boolean allowsTier(boolean external) {
        return this != RESTRICTED && !(external && this == CONFIDENTIAL);
    }

    /** {@link #allowsTier} for a tier in {@code zone}: restricted goes nowhere, confidential only inside the edge zone. */
    public boolean allows(Zone zone) {
        return allowsTier(!zone.insideEdgeZone());
    }

    /** The higher of the two levels; a null argument counts as nothing and yields the other. */
    public static Sensitivity max(Sensitivity a, Sensitivity b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** The highest of {@code levels} (nulls ignored); {@code floor} when there are none. */
    public static Sensitivity max(Sensitivity floor, Iterable<Sensitivity> levels) {
        Sensitivity out = floor;
        for (Sensitivity s : levels) {
            out = max(out, s);
        }
        return out;
    }

    /** True when this level is {@code other} or above it. */
    public boolean atLeast(Sensitivity other) {
        return compareTo(other) >= 0;
    }

    /** Lower-case name used in JSON and document metadata. */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
