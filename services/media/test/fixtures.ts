import sharp from 'sharp';

/** A plain PNG of the given size. */
export const png = (w = 800, h = 600) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 80, b: 40 } } }).png().toBuffer();

/** A phone photo: JPEG carrying EXIF with a GPS position and camera details. */
export const jpegWithGps = () =>
  sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'PhoneCo', Model: 'Snapper 9', Copyright: 'Olga' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 2658/100', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 3966/100' },
    })
    .toBuffer();
