package dev.offload.gateway.privacy;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Where a backend tier runs, seen from the device, nearest first. The <em>edge zone</em> is
 * {@link #DEVICE_ADJACENT} and {@link #EDGE}: hardware at this site under the operator's
 * control. {@link #REGIONAL} (a private cloud or a region of the operator's) and
 * {@link #EXTERNAL} (a third party's API) are outside it: confidential data never goes there
 * and personal data is redacted before anything does. Restricted data goes to no zone at all.
 *
 * <p>Configured as {@code gateway.tiers.<name>.zone=device-adjacent|edge|regional|external}.
 */
public enum Zone {
    /** A neighbouring device or a box next to it, on the same local network. */
    DEVICE_ADJACENT,
    /** The edge server pool of this site. */
    EDGE,
    /** The operator's own region or private cloud. */
    REGIONAL,
    /** A third party's hosted model. */
    EXTERNAL;

    private static final String ACCEPTED = Arrays.stream(values()).map(Zone::wireName).collect(Collectors.joining(", "));

    /** True for the zones at this site ({@link #DEVICE_ADJACENT}, {@link #EDGE}). */
    public boolean insideEdgeZone() {
        return this == DEVICE_ADJACENT || this == EDGE;
    }

    /** Lower case with dashes, as configured ({@code device-adjacent}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Reads a zone, ignoring case, blanks and the choice of {@code -} or {@code _}.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Zone parse(String value) {
        if (value != null) {
            String v = value.strip().toUpperCase(Locale.ROOT).replace('-', '_');
            for (Zone z : values()) {
                if (z.name().equals(v)) {
                    return z;
                }
            }
        }
        throw new IllegalArgumentException("unknown zone '" + value + "'; expected one of " + ACCEPTED);
    }
}
