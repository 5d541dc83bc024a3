/**
 * Names for the bench data: common French surnames and first names, and syllables for the long
 * tail of rarer surnames (most people do not bear one of the few hundred commonest names, so a
 * search for one surname matches a few hundred files in a million, as it would in a département).
 */
export const SURNAMES =
  `Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel
Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau
Vincent Muller Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand
Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand
Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière
Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin
Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois
Pierre Benoît Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot
Hubert Berger Carpentier Sanchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury
Royer Klein Jacquet Adam Paris Poirier Marty Aubry Guyot Carré Charles Renault Charpentier
Ménard Maillard Baron Bertin Bailly Hervé Schneider Fernandez Le Gall Collet Léger Bouvier Julien
Prévost Millet Perrot Daniel Le Roux Cousin Germain Breton Besson Langlois Rémy Le Goff Pelletier
Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet Hamon Boulanger Jacob Monnier Michaud
Rodriguez Guichard Gillet Étienne Grondin Poulain Tessier Chevallier Collin Chauvin Da Silva
Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud Antoine Hoarau Perret Barthélemy Cordier
Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte Gomez Leduc Bouvet Hoareau
Tanguy Bodin Besnard Lebon Texier Raynaud Fleurot Lamotte Guillon Mallard Riviere Chauvet
Chevrier Charrier Marechal Delmas Bousquet Ferrand Rouxel Jolivet Poulet Guillou Hebert Leveque
Moreno Pons Tournier Briand Buisson Besse Devaux Maillot Blondel Ollivier Peltier Hamel Georges
Laine Verdier Lebreton Barre Camus Delorme Chauveau Grenier Fabre Bertin Lucas Lefort Benard
Riou Guerin Favre Diallo Traoré Ba Sow Ndiaye Diop Fall Camara Keita Cissé Touré Haddad Benali
Belkacem Bensaïd Mansouri Chaouch Amrani Boudjema Hamidi Saïdi Rahmani Nguyen Tran Pham Le Hoang
Yilmaz Kaya Demir Santos Ferreira Pereira Oliveira Costa Rodrigues Gonçalves Kowalski Nowak
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti`
    .split(/\s+/)
    .filter(Boolean);

export const FIRST_NAMES =
  `Marie Jean Pierre Michel Philippe Alain Nathalie Isabelle Sylvie Catherine
Françoise Christine Monique Nicolas Patrick Daniel Christophe Stéphane Sandrine Valérie Véronique
Laurent Frédéric Éric Julien David Sébastien Olivier Thierry Céline Aurélie Émilie Julie Camille
Léa Manon Chloé Sarah Inès Jade Louise Emma Lucas Hugo Louis Nathan Gabriel Arthur Jules Adam
Raphaël Léo Mohamed Ahmed Karim Rachid Fatima Aïcha Khadija Samira Nadia Yasmine Mamadou Moussa
Aminata Fatoumata Awa Ibrahima Oumar Hélène José Noël François Zoé Jérôme Loïc Maëlle Gisèle
Josiane Jacqueline Yvette Denise Simone Paulette Suzanne Odette Raymond Roger Marcel André
René Bernard Claude Gérard Guy Serge Jacques Henri Robert Georges Lucien Yves Joël Didier Pascal
Dominique Bruno Franck Ludovic Vincent Fabrice Cédric Anthony Kevin Dylan Enzo Théo Maxime Thomas
Alexandre Antoine Quentin Romain Clément Benjamin Mathieu Guillaume Florian Anaïs Laura Marion
Pauline Mélanie Audrey Caroline Élodie Virginie Stéphanie Delphine Karine Corinne Martine Brigitte
Annie Chantal Danielle Nicole Colette Ginette Huguette Lucienne Mireille Odile Régine Solange
Viviane Yasmina Leïla Sofia Amira Lina Rayan Ilyes Yanis Bilal Hamza Ismaël Moussa Samba Kofi
Ana Maria João Carlos Luis Manuel Teresa Giulia Marco Paolo Irina Olga Natalia Andrei Ivan Dmitri
Ahmet Mehmet Elif Ayşe Minh Linh Thanh Huong Anh Bao`
    .split(/\s+/)
    .filter(Boolean);

/** Three parts make tens of thousands of rarer surnames ("Kerbellec", "Vaudrinot"…). */
export const SURNAME_HEADS = `Ker Le Van Mor Gal Bel Vau Char Mon Rou Bra Del Ril Tal Cor Gui Har
Jou Lan Mal Pen Quer Ros Sal Tre Ver Bou Cas Dur Fon`.split(/\s+/);
export const SURNAME_MIDDLES = `bel dri gar lan mor ni ro ta vel zi bon cha dor fer gal li mar no pi
ra sa te vi zo ber ca du lo mi`.split(/\s+/);
export const SURNAME_TAILS = `ec ot and on ier eau in ard et ais oux elle ault as ez ic y aud
al eux ac iet ol ain ès ange ard ine ul`.split(/\s+/);

/** Where people met in the street are found, and how they are called when their name is unknown. */
export const PLACES =
  `parvis de la médiathèque|quai Ligny|gare Saint-Laud|square Jeanne-d’Arc|place du Ralliement|
jardin des Plantes|rue Plantagenêt|boulevard Foch|place Molière|esplanade du Quai|arrêt Ney-Chalouère|
parking Saint-Serge|halles Biscarel|centre commercial Grand Maine|rue Saint-Aubin|place Lorraine|
passage Bressigny|berges de la Maine|place Imbach|rue de la Roë`
    .split('|')
    .map((p) => p.trim());
export const ALIASES = `Homme au chien|Dame du square|Jeune au skate|Monsieur au vélo|Dame aux sacs|
Couple de la tente|Monsieur à la guitare|Jeune homme au sac à dos|Dame au fauteuil|Monsieur du banc`
  .split('|')
  .map((p) => p.trim());

export const DISTRICTS =
  `Belle-Beille|Monplaisir|Roseraie|Centre-ville|Doutre|Lac de Maine|Deux-Croix Banchais|
Hauts-de-Saint-Aubin|Justices|Madeleine|Saint-Léonard|Saint-Serge|Ney-Chalouère|Grand-Pigeon|
Orgemont|Verneau|Capucins|Saint-Lazare|Bords de Loire|Trélazé-centre|Avrillé-centre|Les Ponts-de-Cé|
Saint-Barthélemy|Beaucouzé`
    .split('|')
    .map((p) => p.trim());
