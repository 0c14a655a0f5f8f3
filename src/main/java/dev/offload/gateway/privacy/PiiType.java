package dev.offload.gateway.privacy;

import java.util.EnumSet;
import java.util.Set;

/** Kinds of personal data the {@link PiiRedactor} finds; each has its own placeholder label. */
public enum PiiType {
    EMAIL("EMAIL"),
    PHONE("PHONE"),
    /** Payment card number (13–19 digits passing the Luhn check). */
    CARD("CARD"),
    /** International bank account number (country format and ISO 7064 mod-97 check digits). */
    IBAN("IBAN"),
    /** IPv4 or IPv6 address. */
    IP("IP"),
    /** A match of one of the configured national-ID patterns. */
    NATIONAL_ID("NATIONAL_ID"),
    /**
     * A person's name, found by {@link PersonNameFinder}'s gazetteer and context rules (no NER
     * model); off unless asked for, see {@link #defaults()}.
     */
    PERSON("PERSON");

    private final String label;

    PiiType(String label) {
        this.label = label;
    }

    /**
     * The kinds on when none are configured: all but {@link #PERSON}, whose precision is that of a
     * word list (see privacy.md) and which is turned on with {@code gateway.privacy.pii-types}.
     */
    public static Set<PiiType> defaults() {
        return EnumSet.complementOf(EnumSet.of(PERSON));
    }

    /** Label inside the placeholder: {@code <LABEL_n>}. */
    public String label() {
        return label;
    }

    /** The n-th placeholder of this type, e.g. {@code <EMAIL_1>}. */
    public String placeholder(int n) {
        return "<" + label + "_" + n + ">";
    }
}
