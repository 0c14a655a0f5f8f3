package dev.offload.gateway.offload.policy;

import java.util.Locale;

/**
 * What a device reports about itself with a query or a decide call. Every field may be
 * missing: the policy treats an unknown value as "no evidence" and never invents one.
 *
 * @param cpuUtil        CPU utilisation, 0..1
 * @param npuUtil        NPU/GPU utilisation, 0..1
 * @param memAvailableMb free memory in MiB
 * @param batteryPct     battery level, 0..100
 * @param charging       plugged in
 * @param thermal        the OS thermal state
 * @param network        the current uplink
 * @param localModel     the device's own model, null when it has none
 */
public record DeviceTelemetry(Double cpuUtil, Double npuUtil, Integer memAvailableMb, Double batteryPct,
                              Boolean charging, Thermal thermal, Network network, LocalModel localModel) {

    /** Nothing known about the device. */
    public static final DeviceTelemetry UNKNOWN = new DeviceTelemetry(null, null, null, null, null, null, null, null);

    public DeviceTelemetry {
        checkFraction("device.cpuUtil", cpuUtil);
        checkFraction("device.npuUtil", npuUtil);
        if (memAvailableMb != null && memAvailableMb < 0) {
            throw new IllegalArgumentException("device.memAvailableMb must be >= 0");
        }
        if (batteryPct != null && (batteryPct < 0 || batteryPct > 100 || batteryPct.isNaN())) {
            throw new IllegalArgumentException("device.batteryPct must be between 0 and 100");
        }
    }

    private static void checkFraction(String field, Double v) {
        if (v != null && (v < 0 || v > 1 || v.isNaN())) {
            throw new IllegalArgumentException(field + " must be between 0 and 1");
        }
    }

    /** Higher of CPU and NPU utilisation, 0 when neither is known. */
    public double load() {
        return Math.max(cpuUtil == null ? 0 : cpuUtil, npuUtil == null ? 0 : npuUtil);
    }

    public boolean offline() {
        return network != null && network.type() == NetworkType.OFFLINE;
    }

    /** Operating-system thermal states (Android's and Apple's scales map onto these four). */
    public enum Thermal {
        NOMINAL, FAIR, SERIOUS, CRITICAL;

        public static Thermal parse(String v) {
            return v == null ? null : valueOf(v.strip().toUpperCase(Locale.ROOT));
        }
    }

    public enum NetworkType {
        WIFI, FIVE_G, LTE, THREE_G, OFFLINE;

        /** Wire names: {@code wifi|5g|lte|3g|offline}. */
        public static NetworkType parse(String v) {
            if (v == null) {
                return null;
            }
            return switch (v.strip().toLowerCase(Locale.ROOT)) {
                case "wifi", "wi-fi", "ethernet" -> WIFI;
                case "5g" -> FIVE_G;
                case "lte", "4g" -> LTE;
                case "3g", "2g" -> THREE_G;
                case "offline", "none" -> OFFLINE;
                default -> throw new IllegalArgumentException("device.network.type must be one of wifi, 5g, lte, 3g, offline");
            };
        }

        public String wire() {
            return switch (this) {
                case WIFI -> "wifi";
                case FIVE_G -> "5g";
                case LTE -> "lte";
                case THREE_G -> "3g";
                case OFFLINE -> "offline";
            };
        }
    }

    /**
     * @param rttMs        round trip to the gateway
     * @param downlinkKbps gateway → device bandwidth, kilobits per second
     * @param uplinkKbps   device → gateway bandwidth
     */
    public record Network(NetworkType type, Double rttMs, Double downlinkKbps, Double uplinkKbps) {
        public Network {
            if (rttMs != null && (rttMs < 0 || rttMs.isNaN())) {
                throw new IllegalArgumentException("device.network.rttMs must be >= 0");
            }
            if (downlinkKbps != null && (downlinkKbps < 0 || downlinkKbps.isNaN())) {
                throw new IllegalArgumentException("device.network.downlinkKbps must be >= 0");
            }
            if (uplinkKbps != null && (uplinkKbps < 0 || uplinkKbps.isNaN())) {
                throw new IllegalArgumentException("device.network.uplinkKbps must be >= 0");
            }
        }
    }

    /**
     * @param tokensPerSec        the device's measured decode speed
     * @param maxContextTokens    its context window
     * @param prefillTokensPerSec its measured prompt-processing speed; null: decode speed × the
     *                            policy's {@code local-prefill-speedup}
     * @param contextTokens       retrieved context the device's own prompt will carry (its local
     *                            index); null: as much as the gateway's prompt
     */
    public record LocalModel(String name, Double tokensPerSec, Integer maxContextTokens, Double prefillTokensPerSec,
                             Integer contextTokens) {
        public LocalModel {
            if (tokensPerSec != null && (tokensPerSec < 0 || tokensPerSec.isNaN())) {
                throw new IllegalArgumentException("device.localModel.tokensPerSec must be >= 0");
            }
            if (maxContextTokens != null && maxContextTokens < 0) {
                throw new IllegalArgumentException("device.localModel.maxContextTokens must be >= 0");
            }
            if (prefillTokensPerSec != null && !(prefillTokensPerSec > 0 && !prefillTokensPerSec.isInfinite())) {
                throw new IllegalArgumentException("device.localModel.prefillTokensPerSec must be > 0");
            }
            if (contextTokens != null && contextTokens < 0) {
                throw new IllegalArgumentException("device.localModel.contextTokens must be >= 0");
            }
        }

        /** A model described by its decode speed and window only. */
        public LocalModel(String name, Double tokensPerSec, Integer maxContextTokens) {
            this(name, tokensPerSec, maxContextTokens, null, null);
        }

        boolean usable() {
            return tokensPerSec != null && tokensPerSec > 0;
        }
    }
}
