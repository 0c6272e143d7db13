"""Makes the small excerpts of the real label files (from the torchxrayvision 1.5.7 wheel) and expected.json:
what torchxrayvision's own dataset classes report on those excerpts, in its default settings and with
all views / all images. Run with a Python that has torchxrayvision==1.5.7 (and torch, pandas) installed:
    python make_excerpts.py /path/to/site-packages/torchxrayvision/data
"""
import gzip, io, json, os, sys, tarfile, tempfile
import numpy as np
import pandas as pd
import torchxrayvision as xrv

SRC = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
out = lambda name: os.path.join(HERE, name)


def gz_csv(df, name, **kw):
    with gzip.open(out(name), "wt", compresslevel=9) as f:
        df.to_csv(f, **kw)


# NIH: the first 4,000 rows (all views, several images per patient).
nih = pd.read_csv(os.path.join(SRC, "Data_Entry_2017_v2020.csv.gz"), nrows=4000)
gz_csv(nih, "nih_excerpt.csv.gz", index=False)
# Google relabels: 1,200 rows.
goo = pd.read_csv(os.path.join(SRC, "google2019_nih-chest-xray-labels.csv.gz"), nrows=1200)
gz_csv(goo, "google_excerpt.csv.gz", index=False)
# CheXpert: the first 6,000 rows (patients with several studies: groupby().first() mixing shows).
chex = pd.read_csv(os.path.join(SRC, "chexpert_train.csv.gz"), nrows=6000)
gz_csv(chex, "chexpert_train_excerpt.csv.gz", index=False)
# PadChest: 3,000 rows, the columns the loaders read (plus the unnamed index column of the original).
pc = pd.read_csv(os.path.join(SRC, "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv.gz"), nrows=3000,
                 low_memory=False)
pc = pc[[pc.columns[0], "ImageID", "StudyDate_DICOM", "StudyID", "PatientID", "PatientBirth",
         "PatientSex_DICOM", "Projection", "Labels"]]
gz_csv(pc, "padchest_excerpt.csv.gz", index=False)
# VinDr: every row of the first 800 images.
vin = pd.read_csv(os.path.join(SRC, "vinbigdata-train.csv.gz"))
keep = vin["image_id"].drop_duplicates().iloc[:800]
gz_csv(vin[vin["image_id"].isin(keep)], "vindr_excerpt.csv.gz", index=False)
# RSNA: the first 2,500 box rows and the header rows of those patients.
rs = pd.read_csv(os.path.join(SRC, "kaggle_stage_2_train_labels.csv.zip"), nrows=2500)
gz_csv(rs, "rsna_labels_excerpt.csv.gz", index=False)
hd = pd.read_csv(os.path.join(SRC, "kaggle_stage_2_train_images_dicom_headers.csv.gz"))
hd = hd[hd["PatientID"].isin(rs["patientId"])]
gz_csv(hd, "rsna_headers_excerpt.csv.gz", index=False)
# SIIM: 2,000 rows.
si = pd.read_csv(os.path.join(SRC, "siim-pneumothorax-train-rle.csv.gz"), nrows=2000)
gz_csv(si, "siim_excerpt.csv.gz", index=False)
# OpenI: the first 400 reports (archive order), with the metadata and t-SNE rows of their images.
src_tar = tarfile.open(os.path.join(SRC, "NLMCXR_reports.tgz"), "r:gz")
members = [m for m in src_tar.getmembers() if m.name.endswith(".xml")][:400]
with tarfile.open(out("openi_reports_excerpt.tgz"), "w:gz") as t:
    for m in members:
        t.addfile(m, src_tar.extractfile(m))
ids = set()
for m in members:
    import xml.etree.ElementTree as ET
    root = ET.parse(src_tar.extractfile(m)).getroot()
    ids |= {n.attrib["id"] for n in root.findall(".//parentImage")}
meta = pd.read_csv(os.path.join(SRC, "nlmcxr_dicom_metadata.csv.gz"), low_memory=False)
meta = meta[meta["imageid"].isin(ids)][["imageid", "View Position"]]
gz_csv(meta, "openi_dicom_metadata_excerpt.csv.gz", index=False)
ts = pd.read_csv(os.path.join(SRC, "nlmcxr_tsne_pa.csv.gz"))
gz_csv(ts[ts["imageid"].isin(ids)], "openi_tsne_excerpt.csv.gz", index=False)


def totals(ds):
    res = {"n": int(len(ds)), "pathologies": list(ds.pathologies), "totals": {}}
    for k, p in enumerate(ds.pathologies):
        col = ds.labels[:, k]
        res["totals"][p] = {"pos": int(np.sum(col == 1)), "neg": int(np.sum(col == 0)), "nan": int(np.sum(np.isnan(col)))}
    return res


img = tempfile.mkdtemp()
expected = {}
for unique in (True, False):
    views = ["PA"] if unique else ["*"]
    tag = "default" if unique else "all"
    expected[f"nih/{tag}"] = totals(xrv.datasets.NIH_Dataset(img, csvpath=out("nih_excerpt.csv.gz"), views=views, unique_patients=unique))
    expected[f"nih-google/{tag}"] = totals(xrv.datasets.NIH_Google_Dataset(img, csvpath=out("google_excerpt.csv.gz"), views=views, unique_patients=unique))
    expected[f"chexpert/{tag}"] = totals(xrv.datasets.CheX_Dataset(img, csvpath=out("chexpert_train_excerpt.csv.gz"), views=views, unique_patients=unique))
    expected[f"padchest/{tag}"] = totals(xrv.datasets.PC_Dataset(img, csvpath=out("padchest_excerpt.csv.gz"), views=views, unique_patients=unique))
    expected[f"rsna/{tag}"] = totals(xrv.datasets.RSNA_Pneumonia_Dataset(img, csvpath=out("rsna_labels_excerpt.csv.gz"), dicomcsvpath=out("rsna_headers_excerpt.csv.gz"), views=views))
    expected[f"openi/{tag}"] = totals(xrv.datasets.Openi_Dataset(img, xmlpath=out("openi_reports_excerpt.tgz"), dicomcsv_path=out("openi_dicom_metadata_excerpt.csv.gz"), tsnepacsv_path=out("openi_tsne_excerpt.csv.gz"), views=views, unique_patients=unique))
expected["siim/default"] = totals(xrv.datasets.SIIM_Pneumothorax_Dataset(img, csvpath=out("siim_excerpt.csv.gz")))
expected["vindr/default"] = totals(xrv.datasets.VinDr_Dataset(img, csvpath=out("vindr_excerpt.csv.gz")))
with open(out("expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print({k: v["n"] for k, v in expected.items()})
