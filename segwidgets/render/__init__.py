"""UI-free pictures from arrays: what widgets, the headless demo and batch jobs draw.

- ``colors``: maps and masks to RGBA (colormaps, palettes).
- ``encode``: lossless PNG bytes (RGBA, or palette-indexed for fast redraws).
- ``composite``: overlays over an image, checkerboard composites for mattes.
- ``matte``: alpha and colours as pictures, backdrops, zoomed regions, split views.
- ``plots``: the graph-cut energy plot.
- ``models``: Gaussian-mixture colour models as swatches (array and HTML).
- ``panels``: a graph-cut trace as named picture panels and an overview sheet.
- ``query``: query-search heat maps with a threshold, a colour bar, box labels, zoomed regions.
- ``semantic``: class colours, label-map overlays, segment outlines, class legends, segment tables.

numpy, Pillow, matplotlib (off-screen) and scikit-image (outlines, imported when used) only;
no ipywidgets, no torch.
"""
from .colors import (
    CHANGE_PALETTE, MASK_COLOR, TRIMAP_COLORS, colormap_palette, map_to_index, map_to_rgba, mask_outline_rgba,
    mask_to_rgba, rgb_to_rgba, trimap_to_rgba, value_range,
)
from .composite import checkerboard, checkerboard_composite, composite
from .encode import encode_indexed_png, encode_png
from .matte import (
    CHECKERBOARD, alpha_to_rgb, aspect_box, backdrop_for, backdrop_kind, parse_color, region_picture, split_picture,
    to_rgb8,
)
from .models import model_swatches, model_swatches_html
from .panels import change_labels, overview_sheet, trace_panels, unary_limit
from .plots import energy_plot
from .query import (
    BOX_COLORS, HEAT_COLORMAP, QUERY_BOX_COLOR, box_at, box_color, box_labels, colorbar, heat_to_rgba, zoom_picture,
    zoom_region,
)
from .semantic import (
    CLASS_COLORS, HIGHLIGHT_COLOR, OUTLINE_COLOR, class_colors, class_palette, class_shares, css_color, label_overlay,
    legend_entries, legend_html, segment_outlines, segment_table_html,
)

__all__ = [
    "CHANGE_PALETTE", "MASK_COLOR", "TRIMAP_COLORS", "colormap_palette", "map_to_index", "map_to_rgba",
    "mask_outline_rgba", "mask_to_rgba", "rgb_to_rgba", "trimap_to_rgba", "value_range", "CHECKERBOARD", "alpha_to_rgb", "aspect_box", "backdrop_for", "backdrop_kind", "parse_color",
    "region_picture", "split_picture", "to_rgb8",
    "checkerboard", "checkerboard_composite", "composite", "encode_indexed_png", "encode_png", "model_swatches",
    "model_swatches_html", "change_labels", "overview_sheet", "trace_panels", "unary_limit", "energy_plot",
    "BOX_COLORS", "HEAT_COLORMAP", "QUERY_BOX_COLOR", "box_at", "box_color", "box_labels", "colorbar", "heat_to_rgba",
    "zoom_picture", "zoom_region",
    "CLASS_COLORS", "HIGHLIGHT_COLOR", "OUTLINE_COLOR", "class_colors", "class_palette", "class_shares", "css_color",
    "label_overlay", "legend_entries", "legend_html", "segment_outlines", "segment_table_html",
]
