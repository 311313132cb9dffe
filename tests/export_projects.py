"""LayerLab projects the export tests share."""
from layerlab.engine.compose import Composer


def modern_project():
    """Every layer of issue 14 in one graph: a GroupNorm stem, a ShuffleNet split/shuffle, a
    squeeze-and-excitation gate, LayerNorm over channels, padding, a transposed convolution,
    both upsampling modes, global max pooling and LayerNorm over features."""
    g = Composer()
    x = g.input([4, 8, 8])
    x = g.layer("Conv2d", x, id="stem", out_channels=8, kernel_size=3, padding=1, bias=False)
    x = g.layer("GroupNorm", x, id="gn", num_groups=2)
    x = g.layer("SiLU", x, id="silu")
    a = g.layer("Narrow", x, id="half_a", start=0, length=4)
    b = g.layer("Narrow", x, id="half_b", start=4, length=4)
    b = g.layer("Conv2d", b, id="dw", out_channels=4, kernel_size=3, padding=1, groups=4)
    b = g.layer("Hardswish", b, id="hswish")
    y = g.layer("Concat", [a, b], id="join")
    y = g.layer("ChannelShuffle", y, id="shuffle", groups=2)
    s = g.layer("AdaptiveAvgPool2d", y, id="squeeze", output_size=1)
    s = g.layer("Conv2d", s, id="se_fc1", out_channels=2, kernel_size=1)
    s = g.layer("Mish", s, id="mish")
    s = g.layer("Conv2d", s, id="se_fc2", out_channels=8, kernel_size=1)
    s = g.layer("Hardsigmoid", s, id="gate")
    y = g.layer("Multiply", [y, s], id="excite")
    y = g.layer("LayerNorm", y, id="ln")
    y = g.layer("GroupNorm", y, id="gn_plain", num_groups=8, affine=False)
    y = g.layer("Dropout2d", y, id="drop2d", p=0.1)
    y = g.layer("Identity", y, id="keep")
    y = g.layer("ZeroPad2d", y, id="pad", padding=[0, 1, 0, 1])
    y = g.layer("ConvTranspose2d", y, id="deconv", out_channels=4, kernel_size=3, stride=2,
                padding=1, output_padding=1)
    y = g.layer("Upsample", y, id="up_nearest", scale_factor=0.5)
    y = g.layer("Upsample", y, id="up_bilinear", scale_factor=2.0, mode="bilinear")
    y = g.layer("Upsample", y, id="up_corners", scale_factor=1.5, mode="bilinear",
                align_corners=True)
    y = g.layer("AdaptiveMaxPool2d", y, id="gmp", output_size=1)
    y = g.layer("Flatten", y, id="flat")
    y = g.layer("LayerNorm", y, id="ln_fc", bias=False)
    y = g.layer("Linear", y, id="fc", out_features=3)
    return g.project("Modern zoo")
