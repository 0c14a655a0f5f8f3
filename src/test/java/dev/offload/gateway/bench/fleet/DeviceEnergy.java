package dev.offload.gateway.bench.fleet;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The device-side energy of a query: local inference (the model's power × the seconds it ran)
 * plus the radio's energy for every exchange with the gateway. Plain Java, no state; any thread.
 *
 * <h2>Radio</h2>
 * The power model of Huang et al., "A Close Examination of Performance and Power Characteristics
 * of 4G LTE Networks" (MobiSys 2012): while data moves the radio draws
 * {@code P = α_u · t_u + α_d · t_d + β} (mW, throughputs in Mbit/s), so a transfer of {@code b}
 * Mbit costs {@code α · b} mJ on top of {@code β} × the time the radio is connected; waking an idle
 * radio costs a promotion (its duration × its power), and after the last packet the radio stays
 * in a high-power tail (its duration × its power) unless the next exchange starts earlier, in which
 * case the tail is cut there and no promotion is paid. Figures per network type in
 * {@link #RADIO}; the 5G entry and why it borrows LTE's figures: {@code src/site/markdown/fleet.md}.
 *
 * <p>Per device, exchanges (decide calls and queries, from request sent to last byte received)
 * are merged into connected periods: {@code β} is paid once for overlapping exchanges, the
 * promotion by the first exchange of a period after an idle radio, the tail (cut by the next
 * period) by the exchange that ends the period. Each exchange is charged its own bytes.
 */
final class DeviceEnergy {

    /**
     * One network type's radio.
     *
     * @param alphaUpMwPerMbps   uplink energy per Mbit/s of throughput (mW per Mbit/s)
     * @param alphaDownMwPerMbps downlink, likewise
     * @param betaMw             power while connected, before any data
     * @param promotionS         idle → connected: how long
     * @param promotionMw        … at what power
     * @param tailS              connected → idle after the last packet: how long
     * @param tailMw             … at what power
     */
    record Radio(double alphaUpMwPerMbps, double alphaDownMwPerMbps, double betaMw, double promotionS,
                 double promotionMw, double tailS, double tailMw) {
        double promotionJ() {
            return promotionS * promotionMw / 1000;
        }

        double tailJ(double seconds) {
            return Math.min(tailS, Math.max(0, seconds)) * tailMw / 1000;
        }

        /** mJ per Mbit → J: α (mW per Mbit/s) × Mbit = mW·s = mJ. */
        double bytesJ(long upBytes, long downBytes) {
            return (alphaUpMwPerMbps * upBytes * 8 / 1e6 + alphaDownMwPerMbps * downBytes * 8 / 1e6) / 1000;
        }
    }

    /**
     * Huang et al. 2012, Table 3 (power model parameters measured on an HTC phone in a commercial
     * network: α_u, α_d, β) and Table 4 (promotion and tail of the RRC state machines: LTE
     * promotion 260.1 ms at 1210.7 mW, tail 11.576 s at 1060.0 mW; 3G 582.1 ms at 659.4 mW, tail
     * 8.088 s at 803.9 mW; Wi-Fi 79.1 ms at 124.4 mW, tail 238.1 ms at 119.3 mW). 5G borrows LTE's
     * figures: an assumption (fleet.md says why); the default timeline has no 5G phase.
     */
    static final Map<String, Radio> RADIO = Map.of(
            "wifi", new Radio(283.17, 137.01, 132.86, 0.0791, 124.4, 0.2381, 119.3),
            "lte", new Radio(438.39, 51.97, 1288.04, 0.2601, 1210.7, 11.576, 1060.0),
            "5g", new Radio(438.39, 51.97, 1288.04, 0.2601, 1210.7, 11.576, 1060.0),
            "3g", new Radio(868.98, 122.12, 817.88, 0.5821, 659.4, 8.0882, 803.9));

    /**
     * One exchange with the gateway as the device's radio sees it.
     *
     * @param owner   which query it belongs to (an index into the caller's list)
     * @param startS  first byte sent (run seconds)
     * @param endS    last byte received
     * @param network the network it used ({@link #RADIO}'s keys)
     */
    record Exchange(int owner, double startS, double endS, long upBytes, long downBytes, String network) {
        Exchange {
            if (endS < startS) {
                throw new IllegalArgumentException("an exchange ends before it starts");
            }
        }
    }

    private DeviceEnergy() {
    }

    /** Local inference: watts × seconds. */
    static double localJoules(double watts, double seconds) {
        return watts * Math.max(0, seconds);
    }

    /**
     * Radio energy per owner for one device's exchanges (any order).
     *
     * @param owners how many owners the indexes run over
     * @param untilS the end of the run: a tail after the last exchange is cut there
     * @return joules per owner
     */
    static double[] radioJoules(List<Exchange> exchanges, int owners, double untilS) {
        double[] out = new double[owners];
        List<Exchange> sorted = new ArrayList<>(exchanges);
        sorted.sort(Comparator.comparingDouble(Exchange::startS).thenComparingDouble(Exchange::endS));
        double previousEnd = Double.NEGATIVE_INFINITY;
        Radio previousRadio = null;
        int previousLast = -1;
        int i = 0;
        while (i < sorted.size()) {
            // One connected period: every exchange that starts before the period's end.
            Exchange first = sorted.get(i);
            Radio r = radio(first.network());
            double start = first.startS();
            double end = first.endS();
            int last = first.owner();
            List<Exchange> period = new ArrayList<>();
            period.add(first);
            int j = i + 1;
            while (j < sorted.size() && sorted.get(j).startS() <= end) {
                Exchange e = sorted.get(j);
                if (e.endS() >= end) {
                    end = e.endS();
                    last = e.owner();
                }
                period.add(e);
                j++;
            }
            // The tail of the previous period, cut by this one; a promotion if the radio had gone idle.
            if (previousRadio != null) {
                out[previousLast] += previousRadio.tailJ(start - previousEnd);
            }
            if (previousRadio == null || start - previousEnd > previousRadio.tailS()) {
                out[first.owner()] += r.promotionJ();
            }
            double connectedJ = (end - start) * r.betaMw() / 1000;
            double weight = 0;
            for (Exchange e : period) {
                weight += e.endS() - e.startS();
            }
            for (Exchange e : period) {
                out[e.owner()] += r.bytesJ(e.upBytes(), e.downBytes());
                out[e.owner()] += weight > 0 ? connectedJ * (e.endS() - e.startS()) / weight : connectedJ / period.size();
            }
            previousEnd = end;
            previousRadio = r;
            previousLast = last;
            i = j;
        }
        if (previousRadio != null) {
            out[previousLast] += previousRadio.tailJ(untilS - previousEnd);
        }
        return out;
    }

    static Radio radio(String network) {
        Radio r = RADIO.get(network.toLowerCase(Locale.ROOT));
        if (r == null) {
            throw new IllegalArgumentException("no radio model for network " + network);
        }
        return r;
    }
}
