package dev.vertebra.examples.trainer;

import dev.vertebra.core.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Grad-CAM (Selvaraju et al., 2017) of the "fracture on this slice" logit over the last feature map (the head, stride 32):
 * channel weights = spatial mean of the logit's gradient with respect to the map, heat = ReLU(Σ weight·map),
 * upsampled bilinearly over the slice and drawn in red over the centre slice.
 */
public final class GradCam {
    private static final int ZOOM = 4;

    private GradCam() {
    }

    /** The heat map [S, S] in [0, 1] of the fracture logit for slice {@code s} of a study. */
    public static float[] heat(FractureModel model, StudySlices study, int s) {
        model.net().eval();
        List<Tensor> maps = model.net().features(model.batch(List.of(study), new int[1], new int[] {s}));
        Tensor head = maps.getLast().detach().requiresGrad(true);        // [1, h, w, C]
        Tensor logits = model.net().classifier().forward(head.mean(false, 1, 2));   // [1, OUTPUTS]
        float[] pick = new float[FractureModel.OUTPUTS];
        pick[FractureModel.FRACTURE] = 1;
        logits.mul(Tensor.of(pick, 1, FractureModel.OUTPUTS).to(model.device())).sum().backward();
        int h = head.dim(1);
        int w = head.dim(2);
        int c = head.dim(3);
        float[] a = head.toFloatArray();
        float[] g = head.grad().toFloatArray();
        double[] weight = new double[c];
        for (int i = 0; i < h * w; i++) {
            for (int ch = 0; ch < c; ch++) {
                weight[ch] += g[i * c + ch] / (h * w);
            }
        }
        double[] cam = new double[h * w];
        double max = 0;
        for (int i = 0; i < h * w; i++) {
            double v = 0;
            for (int ch = 0; ch < c; ch++) {
                v += weight[ch] * a[i * c + ch];
            }
            cam[i] = Math.max(0, v);
            max = Math.max(max, cam[i]);
        }
        int size = study.size();
        float[] out = new float[size * size];
        for (int y = 0; y < size; y++) {
            double fy = Math.clamp((y + 0.5) * h / size - 0.5, 0, h - 1);
            for (int x = 0; x < size; x++) {
                double fx = Math.clamp((x + 0.5) * w / size - 0.5, 0, w - 1);
                int y0 = (int) fy;
                int x0 = (int) fx;
                int y1 = Math.min(y0 + 1, h - 1);
                int x1 = Math.min(x0 + 1, w - 1);
                double dy = fy - y0;
                double dx = fx - x0;
                double v = (1 - dy) * ((1 - dx) * cam[y0 * w + x0] + dx * cam[y0 * w + x1])
                        + dy * ((1 - dx) * cam[y1 * w + x0] + dx * cam[y1 * w + x1]);
                out[y * size + x] = max > 0 ? (float) (v / max) : 0;
            }
        }
        return out;
    }

    /** Writes the slice (grey) with the heat map (red) over it, enlarged {@value #ZOOM}×. */
    public static void write(StudySlices study, int s, float[] heat, Path png) throws IOException {
        int size = study.size();
        BufferedImage img = new BufferedImage(size * ZOOM, size * ZOOM, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size * ZOOM; y++) {
            for (int x = 0; x < size * ZOOM; x++) {
                int i = (y / ZOOM) * size + x / ZOOM;
                double grey = study.pixels()[s * size * size + i];
                double alpha = 0.5 * heat[i];
                int r = (int) Math.round(255 * ((1 - alpha) * grey + alpha));
                int gb = (int) Math.round(255 * (1 - alpha) * grey);
                img.setRGB(x, y, (r << 16) | (gb << 8) | gb);
            }
        }
        ImageIO.write(img, "png", png.toFile());
    }
}
