/* rakennettu map helpers (BSD-3-Clause, part of rakennettu).
 *
 * The map's data arrive as compact GeoJSON: each feature carries a class index `c`
 * (or an array of them, one per layer drawn from the same features), and optionally a
 * tooltip `t` and a popup `p`. Every text in `t` and `p` was escaped in Python
 * (html.escape) before it was written; these helpers only join it with numbers and
 * with labels that were escaped the same way.
 */
var rk = (function () {
  "use strict";

  function classOf(f, index) {
    var c = f.properties.c;
    if (index === null || index === undefined) { return c; }
    return c === undefined || c === null ? null : c[index];
  }

  function styler(o) {
    return function (f) {
      var k = classOf(f, o.index);
      if (k === null || k === undefined || k < 0 || k >= o.styles.length) { return o.na; }
      return o.styles[k];
    };
  }

  function cellTip(labels, values) {
    var out = [];
    for (var i = 0; i < labels.length; i++) {
      var v = values ? values[i] : null;
      out.push(labels[i] + ": <b>" + (v === null || v === undefined ? "–" : String(v)) + "</b>");
    }
    return out.join("<br>");
  }

  /* Compact features (see rakennettu.outputs.map._collection) back to GeoJSON. */
  function run(a) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < a.length; i += 2) { x += a[i]; y += a[i + 1]; out.push([x / 1e6, y / 1e6]); }
    return out;
  }
  function rings(a) { return a.map(run); }
  var TYPES = [null,
    ["Point", function (c) { return run(c)[0]; }],
    ["LineString", run],
    ["Polygon", rings],
    ["MultiPoint", function (c) { return c.map(function (p) { return run(p)[0]; }); }],
    ["MultiLineString", rings],
    ["MultiPolygon", function (c) { return c.map(rings); }]];
  function decode(data) {
    return {
      type: "FeatureCollection",
      features: data.f.map(function (f) {
        var t = TYPES[f[0]];
        return { type: "Feature", geometry: { type: t[0], coordinates: t[1](f[1]) }, properties: f[2] };
      })
    };
  }

  /* A GeoJSON layer: o = {pane, styles, na, index, interactive, labels, radius}. */
  function geojson(data, o) {
    var style = styler(o);
    return L.geoJson(data, {
      pane: o.pane,
      interactive: o.interactive,
      style: style,
      pointToLayer: function (f, latlng) {
        var s = style(f);
        return L.circleMarker(latlng, L.extend({ pane: o.pane, interactive: o.interactive }, s));
      },
      onEachFeature: function (f, layer) {
        if (!o.interactive) { return; }
        var p = f.properties;
        if (p.t) {
          layer.bindTooltip(p.t, { sticky: true });
        } else if (o.tip && p.n !== undefined) {
          /* "<name> · <sentence with the number>": all parts escaped in Python */
          layer.bindTooltip((p.s || o.tip[0]) + " · " + o.tip[1].split("{n}").join(String(p.n)), { sticky: true });
        } else if (o.labels) {
          layer.bindTooltip(function () { return cellTip(o.labels, p.v); }, { sticky: true });
        }
        if (p.p) { layer.bindPopup(p.p, { maxWidth: 380, minWidth: 260, maxHeight: 440 }); }
      }
    });
  }

  /* Numbered markers: point features with a whole number `r` (the rank) and a popup `p`. */
  function ranks(data, o) {
    var group = L.featureGroup();
    data.features.forEach(function (f) {
      var ll = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
      var rank = parseInt(f.properties.r, 10);
      var level = f.properties.c;  /* 0 top three, 1 top ten, 2 the others */
      var size = level === 2 ? 20 : 26;
      var icon = L.divIcon({
        className: "rk-rank" + (level === 0 ? " rk-rank-top" : level === 2 ? " rk-rank-minor" : ""),
        html: String(rank),
        iconSize: [size, size],
        /* Above the site's northernmost point, so the marker never hides the outline. */
        iconAnchor: [size / 2, size + 3 + (Number(f.properties.o) || 0)],
        popupAnchor: [0, -size - 3 - (Number(f.properties.o) || 0)]
      });
      /* Better ranks are drawn on top of worse ones. */
      var m = L.marker(ll, {
        icon: icon, pane: o.pane, keyboard: true, riseOnHover: true, title: String(f.properties.title || rank),
        zIndexOffset: (1000 - Math.min(rank, 999)) * 1000
      });
      m.feature = f;
      if (f.properties.p) { m.bindPopup(f.properties.p, { maxWidth: 380, minWidth: 260, maxHeight: 440 }); }
      group.addLayer(m);
    });
    return group;
  }

  /* Names written on the map: points with a text `t` (escaped in Python) and an angle `a`.
   * With o.zoom, a name is made only once the map shows it: from that zoom on, and in
   * view (a whole town has thousands of street names, hidden below that zoom anyway). */
  function labels(data, o) {
    var group = L.layerGroup(), made = [], map = null;
    function marker(f) {
      var ll = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
      var icon = L.divIcon({
        className: (o.labels && o.labels[0]) || "rk-street-label",
        html: '<span style="transform:translate(-50%,-50%) rotate(' + Number(f.properties.a || 0) + 'deg)">' + f.properties.t + "</span>",
        iconSize: null
      });
      return L.marker(ll, { icon: icon, pane: o.pane, interactive: false, keyboard: false });
    }
    if (o.zoom === undefined || o.zoom === null) {
      data.features.forEach(function (f) { group.addLayer(marker(f)); });
      return group;
    }
    function update() {
      if (map.getZoom() < o.zoom) { return; }
      var view = map.getBounds().pad(0.3);
      data.features.forEach(function (f, i) {
        var c = f.geometry.coordinates;
        if (!made[i] && view.contains([c[1], c[0]])) { made[i] = true; group.addLayer(marker(f)); }
      });
    }
    group.on("add", function () { map = group._map; map.on("zoomend moveend", update); update(); });
    group.on("remove", function () { if (map) { map.off("zoomend moveend", update); } });
    return group;
  }

  /* Detail loaded by area (rakennettu.outputs.map._detail_tiles): index = {n: name,
   * d: file prefix, z: zoom from which to load, t: [[key, south, west, north, east], ...]}.
   * From zoom z on, the files of the squares in view (and a margin) are added as
   * script elements (fetch cannot read files beside a file: page); each calls
   * rk.tile(name, key, data). Below zoom z the layer's pane is hidden. */
  var waiting = {};
  function lazy(index, o) {
    var group = L.featureGroup(), asked = {}, map = null;
    function update() {
      var far = map.getZoom() < index.z;
      map.getPane(o.pane).style.display = far ? "none" : "";
      if (far) { return; }
      var view = map.getBounds().pad(0.3);
      index.t.forEach(function (t) {
        if (asked[t[0]] || !view.intersects(L.latLngBounds([t[1], t[2]], [t[3], t[4]]))) { return; }
        asked[t[0]] = true;
        var s = document.createElement("script");
        s.src = index.d + t[0] + ".js";
        document.head.appendChild(s);
      });
    }
    waiting[index.n] = function (data) { group.addLayer(geojson(decode(data), o)); };
    group.on("add", function () { map = group._map; map.on("zoomend moveend", update); update(); });
    group.on("remove", function () { if (map) { map.off("zoomend moveend", update); } });
    return group;
  }
  function tile(name, key, data) {
    if (waiting[name]) { waiting[name](data); }
  }

  /* A feature with a key `k` and no popup opens the popup of the marker with that key. */
  function linkPopups(group) {
    var byKey = {};
    group.eachLayer(function (part) {
      part.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (p && p.k !== undefined && p.p) { byKey[p.k] = l; }
      });
    });
    group.eachLayer(function (part) {
      part.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (p && p.k !== undefined && !p.p && byKey[p.k]) {
          l.on("click", function () { byKey[p.k].openPopup(); });
        }
      });
    });
    return group;
  }

  /* A layer of the control whose parts are made the first time it is shown: a hidden
   * layer (one of a whole town's seven hexagon shadings) costs nothing until chosen. */
  function later(make) {
    var group = L.featureGroup(), made = false;
    group.on("add", function () {
      if (made) { return; }
      made = true;
      make().forEach(function (part) { group.addLayer(part); });
      linkPopups(group);
    });
    return group;
  }

  /* Numbers below the top ten only from a zoom level on, so a town-wide view stays legible. */
  function minorFrom(map, zoom) {
    function update() {
      var z = map.getZoom();
      var far = z !== undefined && z < zoom;
      L.DomUtil[far ? "addClass" : "removeClass"](map.getContainer(), "rk-far");
      L.DomUtil[z !== undefined && z < 16 ? "addClass" : "removeClass"](map.getContainer(), "rk-nonames");
    }
    map.on("zoomend viewreset load", update);
    update();
  }

  function panes(map, spec) {
    spec.forEach(function (p) {
      if (!map.getPane(p[0])) { map.createPane(p[0]); }
      map.getPane(p[0]).style.zIndex = String(p[1]);
    });
  }

  /* A control holding static HTML (escaped in Python). */
  function box(map, html, position, className) {
    var C = L.Control.extend({
      options: { position: position },
      onAdd: function () {
        var div = L.DomUtil.create("div", "rk-box " + className);
        div.innerHTML = html;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    var c = new C();
    c.addTo(map);
    return c;
  }

  /* Show each legend block only while its layer is on the map. */
  function legendFollows(map, blocks) {
    function update() {
      blocks.forEach(function (b) {
        var el = document.getElementById(b[1]);
        if (el) { el.style.display = map.hasLayer(b[0]) ? "" : "none"; }
      });
    }
    map.on("baselayerchange overlayadd overlayremove", update);
    update();
  }

  return { decode: decode, geojson: geojson, lazy: lazy, tile: tile, labels: labels, linkPopups: linkPopups, later: later, minorFrom: minorFrom, ranks: ranks, panes: panes, box: box, legendFollows: legendFollows };
})();
