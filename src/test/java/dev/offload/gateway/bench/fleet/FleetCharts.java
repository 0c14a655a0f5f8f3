package dev.offload.gateway.bench.fleet;

import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The driver's PNG plots (XChart, headless): latency CDF per policy, answer routes over time per
 * policy, and the edge tier's batch occupancy over time. Pure functions of the records; one
 * thread.
 */
final class FleetCharts {
    static final List<String> ROUTES = List.of("local", "edge", "cloud", "cache", "extractive", "cut-off");
    private static final Map<String, Color> ROUTE_COLORS = Map.of("local", new Color(0x33, 0x66, 0xcc),
            "edge", new Color(0xee, 0x88, 0x22), "cloud", new Color(0x99, 0x55, 0xbb), "cache", new Color(0x33, 0x99, 0x55),
            "extractive", new Color(0xcc, 0xbb, 0x44), "cut-off", new Color(0x99, 0x99, 0x99));
    private static final int WIDTH = 900;
    private static final int HEIGHT = 520;

    private FleetCharts() {
    }

    /** End-to-end latency CDF, one line per policy, log-scaled seconds. */
    static Path latencyCdf(Path dir, Map<Policy, List<RequestRecord>> byPolicy) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("End-to-end latency, CDF per policy")
                .xAxisTitle("latency (s, log scale)").yAxisTitle("share of queries ≤ x").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        for (Map.Entry<Policy, List<RequestRecord>> e : byPolicy.entrySet()) {
            double[] v = e.getValue().stream().mapToDouble(r -> Math.max(0.001, r.e2eMs() / 1000)).sorted().toArray();
            if (v.length == 0) {
                continue;
            }
            int step = Math.max(1, v.length / 600);
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < v.length; i += step) {
                xs.add(v[i]);
                ys.add((i + 1) / (double) v.length);
            }
            xs.add(v[v.length - 1]);
            ys.add(1.0);
            chart.addSeries(e.getKey().label, xs, ys).setMarker(SeriesMarkers.NONE);
        }
        return save(chart, dir.resolve("latency-cdf.png"));
    }

    /** Share of answers by route per time bucket (stacked), for one policy. */
    static Path routes(Path dir, Policy policy, List<RequestRecord> records, double bucketS, double durationS)
            throws IOException {
        int buckets = Math.max(1, (int) Math.ceil(durationS / bucketS));
        Map<String, double[]> counts = new LinkedHashMap<>();
        for (String r : ROUTES) {
            counts.put(r, new double[buckets]);
        }
        double[] total = new double[buckets];
        for (RequestRecord r : records) {
            int b = Math.min(buckets - 1, (int) (r.arrivalS() / bucketS));
            counts.get(r.route())[b]++;
            total[b]++;
        }
        List<String> xs = new ArrayList<>();
        for (int b = 0; b < buckets; b++) {
            xs.add(String.format(Locale.ROOT, "%.0f", b * bucketS));
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Who answered, per " + trim(bucketS) + " s of arrivals: " + policy.label)
                .xAxisTitle("arrival time (s)").yAxisTitle("share of queries").build();
        chart.getStyler().setStacked(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setXAxisLabelRotation(90);
        chart.getStyler().setAvailableSpaceFill(0.95);
        for (String route : ROUTES) {
            double[] c = counts.get(route);
            if (Arrays.stream(c).sum() == 0 && !route.equals("local") && !route.equals("edge")) {
                continue;
            }
            List<Double> ys = new ArrayList<>();
            for (int b = 0; b < buckets; b++) {
                ys.add(total[b] == 0 ? 0 : c[b] / total[b]);
            }
            chart.addSeries(route, xs, ys).setFillColor(ROUTE_COLORS.get(route));
        }
        return save(chart, dir.resolve("routes-" + policy.wire + ".png"));
    }

    /**
     * Mean edge batch occupancy per time bucket, one line per policy that called the gateway,
     * with the scenario's phase boundaries.
     */
    static Path occupancy(Path dir, Map<Policy, List<FleetRun.Sample>> samples, double bucketS, Scenario scenario)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("GPU batch occupancy (gateway_backend_batch_occupancy, edge tier)")
                .xAxisTitle("time (s)").yAxisTitle("occupancy (in flight / max batch)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.1);
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setXAxisMax(scenario.durationS());
        int buckets = Math.max(1, (int) Math.ceil(scenario.durationS() / bucketS));
        boolean any = false;
        for (Map.Entry<Policy, List<FleetRun.Sample>> e : samples.entrySet()) {
            double[] sum = new double[buckets];
            int[] n = new int[buckets];
            for (FleetRun.Sample s : e.getValue()) {
                if (Double.isNaN(s.occupancy()) || s.atS() < 0 || s.atS() >= scenario.durationS()) {
                    continue;
                }
                int b = (int) (s.atS() / bucketS);
                sum[b] += s.occupancy();
                n[b]++;
            }
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int b = 0; b < buckets; b++) {
                if (n[b] > 0) {
                    xs.add((b + 0.5) * bucketS);
                    ys.add(sum[b] / n[b]);
                }
            }
            if (!xs.isEmpty()) {
                XYSeries s = chart.addSeries(e.getKey().label, xs, ys);
                s.setMarker(SeriesMarkers.CIRCLE);
                any = true;
            }
        }
        if (!any) {
            chart.addSeries("no samples", List.of(0.0), List.of(0.0));
        }
        for (Scenario.Phase p : scenario.phases()) {
            if (p.startS() > 0) {
                chart.addAnnotation(new AnnotationLine(p.startS(), true, false));
            }
            chart.addAnnotation(new AnnotationText(p.name(), p.startS() + p.durationS() / 2, 1.05, false));
        }
        return save(chart, dir.resolve("gpu-occupancy.png"));
    }

    /**
     * The four axes side by side, one bar per policy: budgets met, answer quality, device energy
     * per query, edge GPU-seconds per query (2 × 2 panels in one PNG).
     */
    static Path fourAxes(Path dir, List<Policy> policies, Map<Policy, FleetReport.Axes> med) throws IOException {
        record Panel(String title, String unit, java.util.function.ToDoubleFunction<FleetReport.Axes> value) {
        }
        List<Panel> panels = List.of(
                new Panel("Budgets met", "share of queries (%)", a -> a.met() * 100),
                new Panel("Answer quality (correct)", "share of queries (%)", a -> a.quality() * 100),
                new Panel("Device energy", "J per query", FleetReport.Axes::joules),
                new Panel("Edge GPU time", "GPU-seconds per query", FleetReport.Axes::gpuS));
        int w = WIDTH / 2 + 60;
        int h = HEIGHT / 2 + 80;
        java.awt.image.BufferedImage out = new java.awt.image.BufferedImage(2 * w, 2 * h,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            for (int i = 0; i < panels.size(); i++) {
                Panel p = panels.get(i);
                CategoryChart c = new CategoryChartBuilder().width(w).height(h).title(p.title()).yAxisTitle(p.unit())
                        .build();
                c.getStyler().setLegendVisible(false);
                c.getStyler().setXAxisLabelRotation(20);
                c.getStyler().setYAxisMin(0.0);
                List<String> xs = new ArrayList<>();
                List<Double> ys = new ArrayList<>();
                for (Policy pol : policies) {
                    double v = p.value().applyAsDouble(med.get(pol));
                    xs.add(pol.label);
                    ys.add(Double.isNaN(v) ? 0 : v);
                }
                c.addSeries(p.title(), xs, ys);
                g.drawImage(BitmapEncoder.getBufferedImage(c), (i % 2) * w, (i / 2) * h, null);
            }
        } finally {
            g.dispose();
        }
        Path file = dir.resolve("four-axes.png");
        javax.imageio.ImageIO.write(out, "png", file.toFile());
        return file;
    }

    private static Path save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path file) throws IOException {
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
