package dev.vertebra.examples.trainer;

import dev.vertebra.examples.metric.CompetitionMetric;
import dev.vertebra.examples.metric.Roc;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** PNG charts of a run: loss curves per epoch and ROC curves per target. */
public final class Plots {

    private Plots() {
    }

    /** Training loss, validation slice loss and validation competition loss per epoch. */
    public static void lossCurves(List<Trainer.Epoch> history, Path png) throws IOException {
        XYChart chart = new XYChartBuilder().width(720).height(480).title("Learning curves")
                .xAxisTitle("epoch").yAxisTitle("loss").build();
        double[] x = history.stream().mapToDouble(Trainer.Epoch::epoch).toArray();
        chart.addSeries("train slice loss", x, history.stream().mapToDouble(Trainer.Epoch::trainLoss).toArray());
        if (history.stream().noneMatch(e -> Double.isNaN(e.valLoss()))) {
            chart.addSeries("validation slice loss", x,
                    history.stream().mapToDouble(Trainer.Epoch::valSliceLoss).toArray());
            chart.addSeries("validation competition loss", x,
                    history.stream().mapToDouble(Trainer.Epoch::valLoss).toArray());
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** ROC curves of each target with both classes present, AUC in the legend. */
    public static void roc(Map<String, Roc.Curve> curves, Map<String, Double> aucs, Path png) throws IOException {
        XYChart chart = new XYChartBuilder().width(720).height(640).title("ROC per target")
                .xAxisTitle("false positive rate").yAxisTitle("true positive rate").build();
        chart.addSeries("chance", new double[] {0, 1}, new double[] {0, 1}).setMarker(SeriesMarkers.NONE);
        for (String target : CompetitionMetric.TARGETS) {
            Roc.Curve c = curves.get(target);
            if (c != null && !Double.isNaN(aucs.get(target))) {
                chart.addSeries(String.format(java.util.Locale.ROOT, "%s (AUC %.3f)", target, aucs.get(target)),
                        c.fpr(), c.tpr()).setMarker(SeriesMarkers.NONE);
            }
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
